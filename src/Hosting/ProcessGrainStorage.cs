using System.Globalization;
using Orleans.Storage;

namespace GeminiParty.Hosting;

/// <summary>
/// Embedded mode's grain storage: the states in a dictionary of this process, serialized so that a grain never shares
/// an object with its stored copy. Orleans' memory storage keeps them in storage grains instead, which a stopping silo
/// deactivates alongside the grains that still write to them on their way out: every stop after use logged failed
/// writes and placement retries, for state that ends with the process either way.
/// </summary>
public sealed class ProcessGrainStorage(IGrainStorageSerializer serializer) : IGrainStorage
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string StateName, GrainId GrainId), (BinaryData Data, string ETag)> _states = [];
    private long _version;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        (BinaryData Data, string ETag) stored;
        lock (_lock)
        {
            if (!_states.TryGetValue((stateName, grainId), out stored))
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
        lock (_lock)
        {
            var key = (stateName, grainId);
            CheckETag(key, grainState.ETag);
            var etag = (++_version).ToString(CultureInfo.InvariantCulture);
            _states[key] = (data, etag);
            grainState.ETag = etag;
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

    /// <summary>A write must start from the version it read, as with any Orleans storage: two activations of one grain cannot both win.</summary>
    private void CheckETag((string StateName, GrainId GrainId) key, string? expected)
    {
        var current = _states.TryGetValue(key, out var stored) ? stored.ETag : null;
        if (current != expected)
        {
            throw new InconsistentStateException($"Version conflict on {key.StateName} of {key.GrainId}", current, expected);
        }
    }
}
