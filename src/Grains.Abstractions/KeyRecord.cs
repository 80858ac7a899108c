namespace GeminiParty;

/// <summary>Everything one upstream key remembers: counters and cooldowns per model, whether it is invalid or disabled, and its probes.</summary>
[GenerateSerializer, Alias("gp.KeyRecord")]
public sealed class KeyRecord
{
    [Id(0)] public Dictionary<string, ModelCounters> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Cooldown per model; entries whose <see cref="Cooldown.Until"/> has passed mean nothing.</summary>
    [Id(1)] public Dictionary<string, Cooldown> Cooldowns { get; set; } = new(StringComparer.Ordinal);

    [Id(2)] public InvalidMark? Invalid { get; set; }

    /// <summary>Set when an operator disabled the key (admin API); it stays out until enabled.</summary>
    [Id(3)] public DisabledMark? Disabled { get; set; }

    /// <summary>The key's health-probe schedule; null when it was never probed.</summary>
    [Id(4)] public ProbeRecord? Probe { get; set; }
}

/// <summary>A key benched for one model until <paramref name="Until"/>.</summary>
[GenerateSerializer, Immutable, Alias("gp.Cooldown")]
public sealed record Cooldown([property: Id(0)] DateTimeOffset Until, [property: Id(1)] string Reason);

/// <summary>A key taken out of every rotation.</summary>
[GenerateSerializer, Immutable, Alias("gp.InvalidMark")]
public sealed record InvalidMark([property: Id(0)] string Reason, [property: Id(1)] DateTimeOffset Since);
