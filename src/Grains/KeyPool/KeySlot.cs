namespace GeminiParty;

/// <summary>The pool's in-memory view of one key: what rotation reads on every lease, and counters not yet flushed.</summary>
internal sealed class KeySlot(KeyAlias alias, KeyAttributes attributes)
{
    public KeyAlias Alias { get; } = alias;
    public KeyAttributes Attributes { get; set; } = attributes;

    /// <summary>The quota group: keys with the same project share it; a key without one has a group of its own.</summary>
    public int Group { get; set; }

    /// <summary>No longer in the silo's key list: out of every rotation, its history kept.</summary>
    public bool Removed { get; set; }

    public InvalidMark? Invalid { get; set; }
    public DisabledMark? Disabled { get; set; }
    public ProbeRecord? Probe { get; set; }

    /// <summary>A probe of this key is running.</summary>
    public bool Probing { get; set; }

    /// <summary>Transient failures reported in a row, reset by a success.</summary>
    public int TransientInARow { get; set; }

    /// <summary>Whether no model may lease the key (invalid, disabled or removed).</summary>
    public bool IsOut => Removed || Invalid is not null || Disabled is not null;
    public Dictionary<string, Cooldown> Cooldowns { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, ModelCounters> Lifetime { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, long> Recent { get; } = new(StringComparer.Ordinal);

    /// <summary>Counts since the last flush to the key grain.</summary>
    public Dictionary<string, ModelCounters> Pending { get; private set; } = new(StringComparer.Ordinal);

    public DateTimeOffset? CoolingUntil(string model, DateTimeOffset now) =>
        Cooldowns.TryGetValue(model, out var cooldown) && cooldown.Until > now ? cooldown.Until : null;

    /// <summary>Counts one upstream attempt made with this key, as a frontend reported it.</summary>
    public void Count(string model, UpstreamOutcome outcome, TokenCounts? tokens, DateTimeOffset now)
    {
        Recent[model] = Recent.GetValueOrDefault(model) + 1;
        foreach (var counters in (ReadOnlySpan<ModelCounters>)[CountersFor(Lifetime, model), CountersFor(Pending, model)])
        {
            counters.Attempts++;
            counters.LastUsed = now;
            counters.Count(outcome);
            if (tokens is { } used)
            {
                counters.AddTokens(used);
            }
        }
    }

    /// <summary>Counts a request that waited for this key to come back for <paramref name="model"/> (it owns the request's resources).</summary>
    public void CountAffinityWait(string model)
    {
        CountersFor(Lifetime, model).AffinityWaits++;
        CountersFor(Pending, model).AffinityWaits++;
    }

    /// <summary>Adds stored counters to the lifetime totals shown (on activation).</summary>
    public void AddLifetime(string model, ModelCounters counters) => CountersFor(Lifetime, model).Add(counters);

    /// <summary>Forgets every counter, flushed or not (an operator's reset).</summary>
    public void ResetCounters()
    {
        Lifetime.Clear();
        Recent.Clear();
        Pending = new(StringComparer.Ordinal);
    }

    /// <summary>Hands the pending counters over for flushing and starts a new batch.</summary>
    public Dictionary<string, ModelCounters>? TakePending()
    {
        if (Pending.Count == 0)
        {
            return null;
        }
        var taken = Pending;
        Pending = new(StringComparer.Ordinal);
        return taken;
    }

    /// <summary>Puts back a batch whose flush failed, so the next flush carries it.</summary>
    public void RestorePending(Dictionary<string, ModelCounters> batch)
    {
        foreach (var (model, delta) in batch)
        {
            CountersFor(Pending, model).Add(delta);
        }
    }

    private static ModelCounters CountersFor(Dictionary<string, ModelCounters> counters, string model)
    {
        if (!counters.TryGetValue(model, out var value))
        {
            counters[model] = value = new ModelCounters();
        }
        return value;
    }
}
