namespace GeminiParty.Frontend.Resources;

/// <summary>
/// Reads how many live resources each key holds (<see cref="IKeyResourcesGrain"/>, one call per key, in parallel): for
/// the status, the metrics and the keys a merged list asks. Never on a request's path to upstream.
/// </summary>
public sealed class KeyResourceCounts(IGrainFactory grains)
{
    public async Task<IReadOnlyDictionary<string, ResourceCounts>> ReadAsync(IEnumerable<string> fingerprints)
    {
        var distinct = fingerprints.Distinct(StringComparer.Ordinal).ToArray();
        var counts = await Task.WhenAll(distinct.Select(fingerprint => grains.GetGrain<IKeyResourcesGrain>(fingerprint).GetCountsAsync().AsTask()));
        var byKey = new Dictionary<string, ResourceCounts>(distinct.Length, StringComparer.Ordinal);
        for (var i = 0; i < distinct.Length; i++)
        {
            byKey[distinct[i]] = counts[i];
        }
        return byKey;
    }
}
