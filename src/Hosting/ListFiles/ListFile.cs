namespace GeminiParty.Hosting.ListFiles;

/// <summary>
/// Reads the line format shared by the key file and the clients file: one entry per line, positional fields first,
/// then whitespace-separated <c>name=value</c> attributes; blank lines and lines starting with <c>#</c> are ignored.
/// </summary>
public static class ListFile
{
    /// <exception cref="ListFileFormatException">a line breaks the format; the message names the line only.</exception>
    public static IReadOnlyList<ListFileEntry> Parse(string text, ListFileSchema schema)
    {
        var entries = new List<ListFileEntry>();
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < schema.Fields.Count)
            {
                throw new ListFileFormatException(lineNumber, $"expected {string.Join(" then ", schema.Fields)} first");
            }
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var word in words.AsSpan(schema.Fields.Count))
            {
                var equals = word.IndexOf('=');
                if (equals <= 0)
                {
                    // the word may be a secret pasted in the wrong place: say where, not what
                    throw new ListFileFormatException(lineNumber,
                        $"after {string.Join(" and ", schema.Fields)}, only name=value attributes may follow (word {Array.IndexOf(words, word) + 1} has no '=')");
                }
                var name = word[..equals];
                if (!schema.Attributes.Contains(name))
                {
                    throw new ListFileFormatException(lineNumber,
                        $"unknown attribute '{Printable(name)}': use {string.Join(", ", schema.Attributes.Order(StringComparer.Ordinal))}");
                }
                if (!attributes.TryAdd(name, word[(equals + 1)..]))
                {
                    throw new ListFileFormatException(lineNumber, $"attribute '{name}' is given twice");
                }
            }
            entries.Add(new ListFileEntry(lineNumber, words[..schema.Fields.Count], attributes));
        }
        return entries;
    }

    private static string Printable(string name) =>
        name.Length <= 32 && name.All(char.IsAsciiLetterOrDigit) ? name : name[..Math.Min(4, name.Length)] + "...";
}
