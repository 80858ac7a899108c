namespace GeminiParty;

/// <summary>
/// Requests of one client in flight, each holding a slot under a lease. The frontend that holds slots renews their
/// leases while its requests run; when it dies, its slots expire instead of blocking the client for good.
/// </summary>
internal sealed class ConcurrencySlots(DateTimeOffset created)
{
    /// <summary>Longer than two renewals apart, so a live frontend never loses a slot to a late renewal.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    private readonly Dictionary<long, DateTimeOffset> _expiries = [];

    // numbered from the activation's time, so a slot number of an earlier activation never frees a slot of this one
    private long _next = created.UtcTicks;

    public int Count => _expiries.Count;

    public long Acquire(DateTimeOffset now)
    {
        var slot = ++_next;
        _expiries[slot] = now + Lease;
        return slot;
    }

    public void Release(long slot) => _expiries.Remove(slot);

    public void Renew(IEnumerable<long> slots, DateTimeOffset now)
    {
        foreach (var slot in slots)
        {
            if (_expiries.ContainsKey(slot))
            {
                _expiries[slot] = now + Lease;
            }
        }
    }

    public void Expire(DateTimeOffset now)
    {
        foreach (var (slot, expiry) in _expiries)
        {
            if (expiry <= now)
            {
                _expiries.Remove(slot);
            }
        }
    }
}
