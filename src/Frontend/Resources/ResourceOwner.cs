namespace GeminiParty.Frontend.Resources;

/// <summary>
/// Which key the resources a request names belong to, as the gateway's records say.
/// </summary>
/// <param name="Names">The resources the request names (empty: none, the request rotates as usual).</param>
/// <param name="Fingerprint">The owning key, or null when the gateway has no record of any of them.</param>
/// <param name="Conflict">Resources of two or more keys, named together: a message naming them, for a 400.</param>
public sealed record ResourceOwner(IReadOnlyList<string> Names, string? Fingerprint, string? Conflict = null)
{
    public static readonly ResourceOwner None = new([], null);

    /// <summary>The resources named, for messages: "file files/abc", or "files/abc, cachedContents/x".</summary>
    public string Describe() => Names.Count == 1 ? $"{ResourceNames.Describe(Names[0])} {Names[0]}" : string.Join(", ", Names);
}
