namespace GeminiParty;

/// <summary>The persisted state of the <see cref="IResourceHoldersGrain"/>.</summary>
[GenerateSerializer, Alias("gp.ResourceHoldersRecord")]
public sealed class ResourceHoldersRecord
{
    [Id(0)] public HashSet<string> Fingerprints { get; set; } = new(StringComparer.Ordinal);
}
