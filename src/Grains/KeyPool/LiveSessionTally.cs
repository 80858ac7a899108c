namespace GeminiParty;

/// <summary>
/// The Live API sessions open per key over every frontend: the latest report of each frontend, until it lapses. Kept
/// by the pool grain in memory only. A frontend reports its whole count rather than each open and close, so a report
/// lost with a dying silo, or a frontend that crashed with sessions open, cannot leave a count wrong for good.
/// </summary>
internal sealed class LiveSessionTally(TimeProvider time)
{
    private readonly Dictionary<Guid, Report> _bySender = [];

    /// <summary>Keeps <paramref name="counts"/> as its sender's sessions, unless a later report of it is already here.</summary>
    public void Apply(LiveSessionCounts counts)
    {
        if (_bySender.TryGetValue(counts.Sender, out var current) && current.Counts.Sequence >= counts.Sequence)
        {
            return;
        }
        _bySender[counts.Sender] = new Report(counts, time.GetUtcNow() + IKeyPoolGrain.LiveSessionsLifetime);
    }

    /// <summary>Open sessions by key index, summed over the senders whose report has not lapsed; forgets the others.</summary>
    public int[] Totals(KeyAlias[] aliases)
    {
        var totals = new int[aliases.Length];
        if (_bySender.Count == 0)
        {
            return totals;
        }
        var now = time.GetUtcNow();
        foreach (var (sender, report) in _bySender)
        {
            if (report.Until <= now)
            {
                _bySender.Remove(sender);
                continue;
            }
            foreach (var open in report.Counts.Open)
            {
                // a frontend with another key list (during a rolling update) may name a key this pool does not have
                if ((uint)open.Key.Index < (uint)aliases.Length && aliases[open.Key.Index].Fingerprint == open.Key.Fingerprint)
                {
                    totals[open.Key.Index] += open.Sessions;
                }
            }
        }
        return totals;
    }

    private sealed record Report(LiveSessionCounts Counts, DateTimeOffset Until);
}
