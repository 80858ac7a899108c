namespace GeminiParty.Frontend.Resources;

/// <summary>
/// Reads how many live resources each key holds: one call to learn which keys hold any (<see cref="IResourceHoldersGrain"/>),
/// then one per such key (<see cref="IKeyResourcesGrain"/>, in parallel); keys holding none cost nothing. For the
/// status, the metrics and the keys a merged list asks; never on a request's path to upstream.
/// </summary>
public sealed class KeyResourceCounts(IGrainFactory grains)
{
    public async Task<IReadOnlyDictionary<string, ResourceCounts>> ReadAsync(IEnumerable<string> fingerprints)
    {
        var holders = (await grains.GetGrain<IResourceHoldersGrain>(GrainIds.DefaultPool).GetAsync()).ToHashSet(StringComparer.Ordinal);
        var distinct = fingerprints.Where(holders.Contains).Distinct(StringComparer.Ordinal).ToArray();
        var counts = await Task.WhenAll(distinct.Select(fingerprint => grains.GetGrain<IKeyResourcesGrain>(fingerprint).GetCountsAsync().AsTask()));
        var byKey = new Dictionary<string, ResourceCounts>(distinct.Length, StringComparer.Ordinal);
        for (var i = 0; i < distinct.Length; i++)
        {
            byKey[distinct[i]] = counts[i];
        }
        return byKey;
    }
}
