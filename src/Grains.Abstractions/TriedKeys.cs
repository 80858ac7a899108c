namespace GeminiParty;

/// <summary>
/// The keys one request has already tried, so that its next lease skips them. A record marked immutable rather than a
/// bare array: Orleans copies neither, and builds no array copier on every lease.
/// </summary>
[GenerateSerializer, Immutable, Alias("gp.TriedKeys")]
public sealed record TriedKeys([property: Id(0)] int[] Indexes)
{
    /// <summary>These keys and one more; the original is left as it is.</summary>
    public TriedKeys And(int index) => new([.. Indexes, index]);
}
