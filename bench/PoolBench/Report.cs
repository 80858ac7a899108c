using System.Text;

namespace GeminiParty.PoolBench;

/// <summary>The markdown the benchmarks print; progress goes to stderr so stdout stays the report.</summary>
internal sealed class Report
{
    private readonly StringBuilder _text = new();

    public void Line(string line = "") => _text.AppendLine(line);

    public static void Progress(string message) => Console.Error.WriteLine($"poolbench: {message}");

    public override string ToString() => _text.ToString();
}
