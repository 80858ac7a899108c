namespace GeminiParty;

/// <summary>
/// Checks one key against upstream with a call that costs no quota. A service of the silo that hosts the pool (it holds
/// the secrets; grains never do): the pool decides when, this decides how.
/// </summary>
public interface IKeyProber
{
    /// <summary>Probes the key with this fingerprint; never throws for an upstream failure (that is <see cref="KeyProbeResult.Inconclusive"/>).</summary>
    Task<KeyProbeResult> ProbeAsync(string fingerprint, CancellationToken cancellationToken);
}
