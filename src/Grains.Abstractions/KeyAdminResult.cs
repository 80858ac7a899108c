namespace GeminiParty;

/// <summary>The pool's answer to an admin action.</summary>
/// <param name="Key">The key acted on; null when the target named no key of the pool.</param>
/// <param name="Probe">For <see cref="KeyAdminAction.Probe"/>: what the probe found.</param>
[GenerateSerializer, Immutable, Alias("gp.KeyAdminResult")]
public sealed record KeyAdminResult([property: Id(0)] KeyAlias? Key, [property: Id(1)] KeyProbeResult? Probe = null);
