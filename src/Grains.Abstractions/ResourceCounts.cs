namespace GeminiParty;

/// <summary>How many live resources one key holds, per collection (<c>files</c>, <c>cachedContents</c>, <c>batches</c>,
/// <c>operations</c>, <c>fileSearchStores</c>, <c>voices</c>); collections it holds none of are absent.</summary>
[GenerateSerializer, Immutable, Alias("gp.ResourceCounts")]
public sealed record ResourceCounts([property: Id(0)] IReadOnlyDictionary<string, int> Live)
{
    public static readonly ResourceCounts None = new(new Dictionary<string, int>());

    /// <summary>The collections counted, in the order status shows them.</summary>
    public static readonly IReadOnlyList<string> Collections = ["files", "cachedContents", "batches", "operations", "fileSearchStores", "voices"];

    public int Total => Live.Values.Sum();

    public int Of(string collection) => Live.GetValueOrDefault(collection);

    /// <summary>
    /// The collection a resource name counts under (<c>models/m/operations/x</c> is an operation), or null for what is
    /// not a resource a client lists (an upload session).
    /// </summary>
    public static string? CollectionOf(string name)
    {
        var slash = name.IndexOf('/');
        if (slash <= 0)
        {
            return null;
        }
        var first = name[..slash];
        if (first == "models")
        {
            return name.Contains("/operations/", StringComparison.Ordinal) ? "operations" : null;
        }
        return Collections.Contains(first) ? first : null;
    }
}
