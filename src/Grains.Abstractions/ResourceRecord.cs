namespace GeminiParty;

/// <summary>The persisted state of one <see cref="IResourceGrain"/>.</summary>
[GenerateSerializer, Alias("gp.ResourceRecord")]
public sealed class ResourceRecord
{
    [Id(0)] public ResourceBinding? Binding { get; set; }
}
