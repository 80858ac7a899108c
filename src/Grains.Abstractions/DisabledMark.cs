namespace GeminiParty;

/// <summary>A key an operator took out of every rotation until enabled again.</summary>
[GenerateSerializer, Immutable, Alias("gp.DisabledMark")]
public sealed record DisabledMark([property: Id(0)] string By, [property: Id(1)] DateTimeOffset Since);
