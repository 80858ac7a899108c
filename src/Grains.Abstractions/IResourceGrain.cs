using Orleans.Concurrency;

namespace GeminiParty;

/// <summary>
/// Which upstream key made one resource (a file, cached content, batch, operation, File Search store, custom voice or upload session),
/// keyed by the resource's name as upstream spells it (<c>files/abc</c>, <c>cachedContents/x</c>, <c>batches/y</c>,
/// <c>operations/z</c>, <c>models/m/operations/z</c>, <c>fileSearchStores/s</c>, <c>voices/voice_v</c>, <c>uploads/{upload_id}</c>). A resource
/// belongs to the Google Cloud project of its key: every later request that names it must go to that key, on every
/// frontend, so the binding lives in one grain per name rather than in any process's memory.
/// </summary>
/// <remarks>
/// Two grain types implement it: <c>resource</c> (the default) and <c>interaction</c>, the same record kept in storage of
/// its own (<see cref="StorageNames.Interactions"/>); <see cref="RecordOf"/> names the one that holds a resource.
/// </remarks>
[Alias("gp.IResourceGrain")]
[Orleans.Metadata.DefaultGrainType(ResourceGrainType)]
public interface IResourceGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records the owning key, or extends the expiry of the same owner. A different owner replaces the old one only when
    /// the old binding has expired: a live resource cannot change projects. Writes storage only when something changed.
    /// </summary>
    [Alias("Bind")]
    Task BindAsync(ResourceBinding binding);

    /// <summary>The owning key, or null when the gateway has no live record of the resource.</summary>
    [Alias("Get")]
    ValueTask<ResourceBinding?> GetAsync();

    /// <summary>Forgets the binding (the resource was deleted upstream).</summary>
    [Alias("Forget")]
    Task ForgetAsync();

    /// <summary>
    /// Clears the record if its binding has lapsed: its key's count saw the expiry pass, and a record nobody names again
    /// would otherwise stay in storage. One-way: the key's grain does not wait for the records it tells.
    /// </summary>
    [Alias("ClearIfLapsed"), OneWay]
    Task ClearIfLapsedAsync();

    /// <summary>The grain type of every resource's record but an interaction's.</summary>
    const string ResourceGrainType = "resource";

    /// <summary>The grain type of an interaction's record.</summary>
    const string InteractionGrainType = "interaction";

    /// <summary>The id of the record of <paramref name="name"/> (<c>interactions/{id}</c>, or any other resource name).</summary>
    static GrainId RecordOf(string name) =>
        GrainId.Create(name.StartsWith("interactions/", StringComparison.Ordinal) ? InteractionGrainType : ResourceGrainType, name);
}
