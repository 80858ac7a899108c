namespace GeminiParty;

/// <summary>The persisted state of one <see cref="IKeyResourcesGrain"/>: each live resource's name and expiry.</summary>
[GenerateSerializer, Alias("gp.KeyResourcesRecord")]
public sealed class KeyResourcesRecord
{
    [Id(0)] public Dictionary<string, DateTimeOffset> Live { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Whether the <see cref="IResourceHoldersGrain"/> lists this key.</summary>
    [Id(1)] public bool Listed { get; set; }
}
