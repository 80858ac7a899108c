using Microsoft.Extensions.DependencyInjection;

namespace GeminiParty;

/// <summary>
/// Counts one key's live resources. Expired entries are skipped when counting and dropped from storage with the next
/// write, so a resource nobody names again (whose <see cref="ResourceGrain"/> never wakes to clear itself) stops
/// counting at its expiry all the same; the records of the entries dropped are told to clear themselves then, so they
/// leave storage too.
/// </summary>
public sealed class KeyResourcesGrain(
    [PersistentState("keyResources", StorageNames.Resources)] IPersistentState<KeyResourcesRecord> state,
    [FromKeyedServices(ServiceKeys.PoolClock)] TimeProvider time) : Grain, IKeyResourcesGrain
{
    /// <summary>
    /// The most resources recorded per key, so one key's record stays a small write: past it the soonest to expire go
    /// first (Google allows 20 GB of files per project; a key with more live resources than this is counted short).
    /// </summary>
    public const int MaxRecorded = 20_000;

    /// <summary>The lapsed resources one change drops and tells to clear; the rest wait for the next change (they no longer count).</summary>
    public const int MaxClearedPerChange = 256;

    public async Task AddAsync(string name, DateTimeOffset expiresAt)
    {
        if (ResourceCounts.CollectionOf(name) is null
            || state.State.Live.TryGetValue(name, out var known) && known == expiresAt)
        {
            return;
        }
        state.State.Live[name] = expiresAt;
        await WriteAsync();
    }

    public async Task RemoveAsync(string name)
    {
        if (state.State.Live.Remove(name))
        {
            await WriteAsync();
        }
    }

    public ValueTask<ResourceCounts> GetCountsAsync()
    {
        var now = time.GetUtcNow();
        var live = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, expiresAt) in state.State.Live)
        {
            if (expiresAt > now && ResourceCounts.CollectionOf(name) is { } collection)
            {
                live[collection] = live.GetValueOrDefault(collection) + 1;
            }
        }
        return ValueTask.FromResult(new ResourceCounts(live));
    }

    private async Task WriteAsync()
    {
        var now = time.GetUtcNow();
        var live = state.State.Live;
        // at most a few hundred at a time: each wakes its record's grain, and a key idle for days may have thousands
        var lapsed = live.Where(pair => pair.Value <= now).Select(pair => pair.Key).Take(MaxClearedPerChange).ToList();
        foreach (var name in lapsed)
        {
            live.Remove(name);
        }
        if (live.Count > MaxRecorded)
        {
            foreach (var name in live.OrderBy(pair => pair.Value).Take(live.Count - MaxRecorded).Select(pair => pair.Key).ToList())
            {
                live.Remove(name);
            }
        }
        // listed among the holders before the first resource is written, unlisted after the last goes
        var holders = GrainFactory.GetGrain<IResourceHoldersGrain>(GrainIds.DefaultPool);
        if (live.Count > 0 && !state.State.Listed)
        {
            await holders.AddAsync(this.GetPrimaryKeyString());
            state.State.Listed = true;
        }
        var unlist = live.Count == 0 && state.State.Listed;
        state.State.Listed &= !unlist;
        await state.WriteStateAsync();
        if (unlist)
        {
            await holders.RemoveAsync(this.GetPrimaryKeyString());
        }
        foreach (var name in lapsed)
        {
            await GrainFactory.GetGrain<IResourceGrain>(IResourceGrain.RecordOf(name)).ClearIfLapsedAsync(); // one-way: returns at once
        }
    }
}
