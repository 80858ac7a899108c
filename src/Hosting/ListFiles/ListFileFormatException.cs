namespace GeminiParty.Hosting.ListFiles;

/// <summary>A line of a list file that cannot be read. The message names the line, never its content.</summary>
public sealed class ListFileFormatException(int line, string problem)
    : FormatException($"line {line}: {problem}")
{
    public int Line { get; } = line;
}
