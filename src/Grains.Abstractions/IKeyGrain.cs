namespace GeminiParty;

/// <summary>
/// One upstream key's memory in one pool (id: <c>{poolId}/{fingerprint}</c>, never the key). Persists cooldowns and the invalid mark at
/// once, and counters as the pool flushes them in batches.
/// </summary>
[Alias("gp.IKeyGrain")]
public interface IKeyGrain : IGrainWithStringKey
{
    [Alias("Get")]
    Task<KeyRecord> GetAsync();

    /// <summary>Benches the key for one model and persists it before returning.</summary>
    [Alias("CoolDown")]
    Task CoolDownAsync(string model, Cooldown cooldown);

    /// <summary>Takes the key out of every model and persists it before returning.</summary>
    [Alias("MarkInvalid")]
    Task MarkInvalidAsync(InvalidMark mark);

    /// <summary>Adds a batch of counter deltas per model (written behind the requests that produced them).</summary>
    [Alias("AddCounters")]
    Task AddCountersAsync(Dictionary<string, ModelCounters> deltas);

    /// <summary>Clears the invalid mark (a probe passed, or an operator enabled the key) and persists it.</summary>
    [Alias("ClearInvalid")]
    Task ClearInvalidAsync();

    /// <summary>Sets (or, with null, clears) the operator's disable mark and persists it.</summary>
    [Alias("SetDisabled")]
    Task SetDisabledAsync(DisabledMark? mark);

    /// <summary>Ends every cooldown and persists it.</summary>
    [Alias("ClearCooldowns")]
    Task ClearCooldownsAsync();

    /// <summary>Zeroes every counter and persists it.</summary>
    [Alias("ResetCounters")]
    Task ResetCountersAsync();

    /// <summary>Stores the key's probe schedule and last result.</summary>
    [Alias("SetProbe")]
    Task SetProbeAsync(ProbeRecord probe);
}
