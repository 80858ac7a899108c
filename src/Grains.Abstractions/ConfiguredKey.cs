namespace GeminiParty;

/// <summary>A key as the pool learns it from a process' configuration: its fingerprint (the identity) and attributes. Never the secret.</summary>
[GenerateSerializer, Immutable, Alias("gp.ConfiguredKey")]
public sealed record ConfiguredKey([property: Id(0)] string Fingerprint, [property: Id(1)] KeyAttributes Attributes);
