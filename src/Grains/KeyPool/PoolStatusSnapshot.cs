namespace GeminiParty;

/// <summary>Builds the pool's status (/rotation-status, /metrics, the status page): copies, never the pool's own state.</summary>
internal sealed class PoolStatusSnapshot(
    PoolKeys keys, RecentCountsWindow window, WaitLines lines, LiveSessionTally liveSessions, bool paidFirst, TimeProvider time)
{
    public PoolStatus Take(string runtimeIdentity)
    {
        var now = time.GetUtcNow();
        window.Roll(now, keys.Slots);
        var slots = keys.Slots;
        var statuses = new KeyStatus[slots.Length];
        var sessions = liveSessions.Totals(Array.ConvertAll(slots, slot => slot.Alias));
        for (var i = 0; i < slots.Length; i++)
        {
            var slot = slots[i];
            statuses[i] = new KeyStatus(
                slot.Alias,
                slot.Lifetime.ToDictionary(pair => pair.Key, pair => pair.Value.Clone(), StringComparer.Ordinal),
                new Dictionary<string, long>(slot.Recent, StringComparer.Ordinal),
                slot.Cooldowns.Where(pair => pair.Value.Until > now).ToDictionary(StringComparer.Ordinal),
                slot.Invalid,
                sessions[i],
                slot.Attributes,
                slot.Removed,
                slot.Disabled,
                slot.Probe?.Clone());
        }
        var resetIn = window.Start + window.Interval - now;
        return new PoolStatus(now, window.Start, resetIn, statuses, runtimeIdentity, paidFirst, lines.Waiting(now));
    }
}
