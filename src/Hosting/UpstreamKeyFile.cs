using GeminiParty.Hosting.ListFiles;

namespace GeminiParty.Hosting;

/// <summary>
/// GEMINI_API_KEY_FILE's format: one key per line, then optional attributes, as in
/// <c>AIza... project=my-project tier=paid weight=2 note=backup</c>; blank lines and <c>#</c> comments are ignored.
/// A line that cannot be read is an error naming its line number, never its key.
/// </summary>
public static class UpstreamKeyFile
{
    public static readonly ListFileSchema Schema = new(["key"], new HashSet<string>(StringComparer.Ordinal) { "project", "tier", "weight", "note" });

    /// <exception cref="ListFileFormatException">a line breaks the format.</exception>
    public static IReadOnlyList<UpstreamKey> Parse(string text)
    {
        var keys = new List<UpstreamKey>();
        var lineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in ListFile.Parse(text, Schema))
        {
            var secret = entry.Fields[0];
            if (!lineOf.TryAdd(secret, entry.Line))
            {
                throw new ListFileFormatException(entry.Line, $"the key is already on line {lineOf[secret]}");
            }
            var project = entry.Text("project");
            if (project is { Length: 0 or > 128 })
            {
                throw new ListFileFormatException(entry.Line, "'project' must be 1 to 128 characters");
            }
            var tier = entry.Choice("tier", "free", "free", "paid") == "paid" ? KeyTier.Paid : KeyTier.Free;
            var weight = entry.Integer("weight", 1, 1, KeyAttributes.MaxWeight);
            keys.Add(new UpstreamKey(secret, new KeyAttributes(project, tier, weight, entry.Text("note"))));
        }
        return keys;
    }
}
