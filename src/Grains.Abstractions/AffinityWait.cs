namespace GeminiParty;

/// <summary>
/// A request naming a resource waited for the key that made it to come back from a cooldown (MAX_AFFINITY_WAIT), as a
/// frontend reports it to the pool: counted once per request, under the owning key and the request's model.
/// </summary>
/// <param name="Fingerprint">The owning key's fingerprint (the resource records name the key by it).</param>
/// <param name="Model">The model the owner was cooling for.</param>
[GenerateSerializer, Immutable, Alias("gp.AffinityWait")]
public sealed record AffinityWait(
    [property: Id(0)] string Fingerprint,
    [property: Id(1)] string Model);
