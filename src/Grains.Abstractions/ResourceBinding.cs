namespace GeminiParty;

/// <summary>
/// The key that made a resource, by its fingerprint (never the secret), and when the record lapses.
/// </summary>
/// <param name="Fingerprint">The owning key's <see cref="KeyAlias.Fingerprint"/>: stable across key list reloads.</param>
/// <param name="ExpiresAt">When upstream deletes the resource (or stops keeping it), after which the record means nothing.</param>
[GenerateSerializer, Immutable, Alias("gp.ResourceBinding")]
public sealed record ResourceBinding([property: Id(0)] string Fingerprint, [property: Id(1)] DateTimeOffset ExpiresAt);
