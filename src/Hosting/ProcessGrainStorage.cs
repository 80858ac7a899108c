using System.Globalization;
using Orleans.Storage;

namespace GeminiParty.Hosting;

/// <summary>
/// Embedded mode's grain storage: the states in a dictionary of this process, serialized so that a grain never shares
/// an object with its stored copy. Orleans' memory storage keeps them in storage grains instead, which a stopping silo
/// deactivates alongside the grains that still write to them on their way out: every stop after use logged failed
/// writes and placement retries, for state that ends with the process either way.
/// </summary>
/// <param name="entryExpiry">
/// How long a state is kept after its last write, as Redis' <c>EntryExpiry</c> keeps it in cluster mode; null keeps it
/// until the process ends. Records that come one per request (interactions) would otherwise grow for as long as the
/// process lives.
/// </param>
public sealed class ProcessGrainStorage(IGrainStorageSerializer serializer, TimeProvider time, TimeSpan? entryExpiry = null) : IGrainStorage
{
    /// <summary>How often a write also drops every expired state (one pass over the dictionary), so unread ones go too.</summary>
    private static readonly TimeSpan SweepInterval = TimeSpan.FromHours(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<(string StateName, GrainId GrainId), Stored> _states = [];
    private long _version;
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    public ProcessGrainStorage(IGrainStorageSerializer serializer) : this(serializer, TimeProvider.System)
    {
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Stored stored;
        lock (_lock)
        {
            if (!TryGetLive((stateName, grainId), out stored))
            {
                return Task.CompletedTask;
            }
        }
        grainState.State = serializer.Deserialize<T>(stored.Data) ?? Activator.CreateInstance<T>();
        grainState.ETag = stored.ETag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = serializer.Serialize(grainState.State);
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var key = (stateName, grainId);
            CheckETag(key, grainState.ETag);
            var etag = (++_version).ToString(CultureInfo.InvariantCulture);
            _states[key] = new Stored(data, etag, entryExpiry is { } expiry ? now + expiry : DateTimeOffset.MaxValue);
            grainState.ETag = etag;
            if (entryExpiry is not null && now >= _nextSweep)
            {
                _nextSweep = now + SweepInterval;
                foreach (var (stale, _) in _states.Where(pair => pair.Value.ExpiresAt <= now).ToList())
                {
                    _states.Remove(stale);
                }
            }
        }
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (_lock)
        {
            var key = (stateName, grainId);
            CheckETag(key, grainState.ETag);
            _states.Remove(key);
        }
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    /// <summary>The number of states held, expired or not: what this storage costs the process.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _states.Count;
            }
        }
    }

    /// <summary>A state past its expiry is gone, as a Redis entry past its TTL is: dropped when found.</summary>
    private bool TryGetLive((string StateName, GrainId GrainId) key, out Stored stored)
    {
        if (!_states.TryGetValue(key, out stored))
        {
            return false;
        }
        if (stored.ExpiresAt > time.GetUtcNow())
        {
            return true;
        }
        _states.Remove(key);
        return false;
    }

    /// <summary>A write must start from the version it read, as with any Orleans storage: two activations of one grain cannot both win.</summary>
    private void CheckETag((string StateName, GrainId GrainId) key, string? expected)
    {
        var current = TryGetLive(key, out var stored) ? stored.ETag : null;
        if (current != expected)
        {
            throw new InconsistentStateException($"Version conflict on {key.StateName} of {key.GrainId}", current, expected);
        }
    }

    private readonly record struct Stored(BinaryData Data, string ETag, DateTimeOffset ExpiresAt);
}
