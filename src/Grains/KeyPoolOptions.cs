using Microsoft.Extensions.Configuration;

namespace GeminiParty;

/// <summary>How the pool treats failing keys. Bound from the flat environment names the original used.</summary>
public sealed class KeyPoolOptions
{
    /// <summary>BLACKLIST_TIMEOUT: how long a rate-limited key cools when upstream gives no retry delay (ms).</summary>
    [ConfigurationKeyName("BLACKLIST_TIMEOUT")]
    public long BlacklistTimeoutMs { get; set; } = 300_000;

    /// <summary>ROTATION_RESET_INTERVAL: length of the recent-usage window shown by /rotation-status (ms).</summary>
    [ConfigurationKeyName("ROTATION_RESET_INTERVAL")]
    public long RotationResetIntervalMs { get; set; } = 60_000;

    /// <summary>How often counters are handed to the key grains to persist (ms). The most a crash can lose.</summary>
    [ConfigurationKeyName("COUNTER_FLUSH_INTERVAL")]
    public long CounterFlushIntervalMs { get; set; } = 1_000;

    /// <summary>KEY_PROBE_INTERVAL: how long after a key is marked invalid it is first probed (ms); the wait doubles per failed probe.</summary>
    [ConfigurationKeyName("KEY_PROBE_INTERVAL")]
    public long KeyProbeIntervalMs { get; set; } = 600_000;

    /// <summary>PAID_FIRST: paid keys serve first and free keys only when no paid key can (the default is the reverse).</summary>
    [ConfigurationKeyName("PAID_FIRST")]
    public bool PaidFirst { get; set; }

    /// <summary>KEY_TRANSIENT_LIMIT: transient failures in a row after which a key cools briefly and is probed.</summary>
    [ConfigurationKeyName("KEY_TRANSIENT_LIMIT")]
    public int KeyTransientLimit { get; set; } = 5;

    /// <summary>How often the pool looks at its silo's key list for a change and starts the probes due (ms).</summary>
    [ConfigurationKeyName("KEY_CHECK_INTERVAL")]
    public long KeyCheckIntervalMs { get; set; } = 1_000;

    /// <summary>The longest wait between two probes of a key that stays bad, unless KEY_PROBE_INTERVAL is longer.</summary>
    public static readonly TimeSpan MaxProbeBackoff = TimeSpan.FromHours(4);

    /// <summary>How long a key cools for a model after KEY_TRANSIENT_LIMIT transient failures in a row.</summary>
    public static readonly TimeSpan TransientCooldown = TimeSpan.FromSeconds(30);

    public TimeSpan KeyCheckInterval => TimeSpan.FromMilliseconds(KeyCheckIntervalMs);

    /// <summary>The wait before the next probe after <paramref name="failedInARow"/> failed ones: doubling, capped.</summary>
    public TimeSpan ProbeDelay(int failedInARow)
    {
        var cap = Math.Max(KeyProbeIntervalMs, (long)MaxProbeBackoff.TotalMilliseconds);
        var ms = (double)KeyProbeIntervalMs * Math.Pow(2, Math.Min(failedInARow, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ms, cap));
    }

    public TimeSpan BlacklistTimeout => TimeSpan.FromMilliseconds(BlacklistTimeoutMs);
    public TimeSpan RotationResetInterval => TimeSpan.FromMilliseconds(RotationResetIntervalMs);
    public TimeSpan CounterFlushInterval => TimeSpan.FromMilliseconds(CounterFlushIntervalMs);
}
