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

    public TimeSpan BlacklistTimeout => TimeSpan.FromMilliseconds(BlacklistTimeoutMs);
    public TimeSpan RotationResetInterval => TimeSpan.FromMilliseconds(RotationResetIntervalMs);
    public TimeSpan CounterFlushInterval => TimeSpan.FromMilliseconds(CounterFlushIntervalMs);
}
