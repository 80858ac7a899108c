namespace GeminiParty;

/// <summary>The pool as one grain sees it: the answer every frontend gives for /rotation-status.</summary>
/// <param name="At">When the snapshot was taken.</param>
/// <param name="WindowStart">Start of the recent-usage window (ROTATION_RESET_INTERVAL).</param>
/// <param name="ResetIn">Time left in the recent-usage window.</param>
/// <param name="Keys">Every key by index: configured ones, then removed ones (their history).</param>
/// <param name="PaidFirst">PAID_FIRST: paid keys serve before free ones.</param>
/// <param name="Waiting">Requests in each model's line now (across every frontend); models with none are left out.</param>
/// <param name="Silo">The silo the pool grain runs on (its Orleans address), so operators see where it moved after a failover.</param>
[GenerateSerializer, Immutable, Alias("gp.PoolStatus")]
public sealed record PoolStatus(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] DateTimeOffset WindowStart,
    [property: Id(2)] TimeSpan ResetIn,
    [property: Id(3)] IReadOnlyList<KeyStatus> Keys,
    [property: Id(4)] string? Silo = null,
    [property: Id(5)] bool PaidFirst = false,
    [property: Id(6)] IReadOnlyDictionary<string, int>? Waiting = null);

/// <param name="Key">The key's alias.</param>
/// <param name="Lifetime">Counters per model since the key was first used, including not yet persisted counts.</param>
/// <param name="Recent">Attempts per model in the current window.</param>
/// <param name="Cooldowns">Cooldowns still running, per model.</param>
/// <param name="Invalid">Set when upstream refused the key: out of every rotation until a probe passes.</param>
/// <param name="LiveSessions">Live API sessions open on the key now, over every frontend.</param>
/// <param name="Attributes">What the key file says about the key (project, tier, weight, note).</param>
/// <param name="Removed">The key is no longer configured: it serves no more, its history stays.</param>
/// <param name="Disabled">Set when an operator disabled the key.</param>
/// <param name="Probe">The key's probe schedule and last result, if it was ever probed.</param>
[GenerateSerializer, Immutable, Alias("gp.KeyStatus")]
public sealed record KeyStatus(
    [property: Id(0)] KeyAlias Key,
    [property: Id(1)] IReadOnlyDictionary<string, ModelCounters> Lifetime,
    [property: Id(2)] IReadOnlyDictionary<string, long> Recent,
    [property: Id(3)] IReadOnlyDictionary<string, Cooldown> Cooldowns,
    [property: Id(4)] InvalidMark? Invalid,
    [property: Id(5)] int LiveSessions = 0,
    [property: Id(6)] KeyAttributes? Attributes = null,
    [property: Id(7)] bool Removed = false,
    [property: Id(8)] DisabledMark? Disabled = null,
    [property: Id(9)] ProbeRecord? Probe = null);
