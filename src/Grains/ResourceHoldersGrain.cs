namespace GeminiParty;

/// <summary>Keeps the set of keys holding resources; written only when a key joins or leaves it.</summary>
public sealed class ResourceHoldersGrain(
    [PersistentState("resourceHolders", StorageNames.Resources)] IPersistentState<ResourceHoldersRecord> state) : Grain, IResourceHoldersGrain
{
    public async Task AddAsync(string fingerprint)
    {
        if (state.State.Fingerprints.Add(fingerprint))
        {
            await state.WriteStateAsync();
        }
    }

    public async Task RemoveAsync(string fingerprint)
    {
        if (state.State.Fingerprints.Remove(fingerprint))
        {
            await state.WriteStateAsync();
        }
    }

    public ValueTask<string[]> GetAsync() => ValueTask.FromResult(state.State.Fingerprints.ToArray());
}
