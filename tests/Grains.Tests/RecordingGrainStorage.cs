using System.Collections.Concurrent;
using Orleans.Storage;

namespace GeminiParty.Grains.Tests;

/// <summary>A grain storage that notes which states were cleared, over a real one: what a test of storage cleanup reads.</summary>
public sealed class RecordingGrainStorage(IGrainStorage inner) : IGrainStorage
{
    private readonly ConcurrentDictionary<GrainId, int> _cleared = new();

    /// <summary>Whether the state of <paramref name="grain"/> was cleared at least once.</summary>
    public bool WasCleared(GrainId grain) => _cleared.ContainsKey(grain);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.WriteStateAsync(stateName, grainId, grainState);

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await inner.ClearStateAsync(stateName, grainId, grainState);
        _cleared.AddOrUpdate(grainId, 1, (_, count) => count + 1);
    }
}
