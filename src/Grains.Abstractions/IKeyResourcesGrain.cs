namespace GeminiParty;

/// <summary>
/// The live resources one upstream key made, keyed by the key's fingerprint: what <c>/rotation-status</c>,
/// <c>/metrics</c> and the status page count per key, and which keys a merged list (<c>GET files</c>, ...) asks.
/// Kept beside the <see cref="IResourceGrain"/>s (which decide routing) by them: written when a resource is bound, its
/// expiry moves, or it is forgotten; never on a request that makes nothing.
/// </summary>
[Alias("gp.IKeyResourcesGrain")]
public interface IKeyResourcesGrain : IGrainWithStringKey
{
    /// <summary>Records (or moves the expiry of) one resource of this key.</summary>
    [Alias("Add")]
    Task AddAsync(string name, DateTimeOffset expiresAt);

    /// <summary>Forgets one resource (deleted upstream, or its record expired).</summary>
    [Alias("Remove")]
    Task RemoveAsync(string name);

    /// <summary>The key's resources not expired now, counted per collection.</summary>
    [Alias("GetCounts")]
    ValueTask<ResourceCounts> GetCountsAsync();
}
