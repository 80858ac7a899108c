namespace GeminiParty;

/// <summary>
/// Which keys hold any live resource (one grain for the cluster, id <see cref="GrainIds.DefaultPool"/>), so that the
/// status, the metrics and merged lists ask only those keys' <see cref="IKeyResourcesGrain"/>s: one call each, not one
/// per key in a pool of thousands. Told by each key's grain when it goes from none to some and back.
/// </summary>
[Alias("gp.IResourceHoldersGrain")]
public interface IResourceHoldersGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task AddAsync(string fingerprint);

    [Alias("Remove")]
    Task RemoveAsync(string fingerprint);

    /// <summary>The fingerprints of keys that hold (or held until lately: an expiry is noticed at their next change) resources.</summary>
    [Alias("Get")]
    ValueTask<string[]> GetAsync();
}
