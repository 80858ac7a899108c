namespace GeminiParty;

/// <summary>
/// The frontends that hold leased keys, each until its subscription lapses. Kept by the pool grain, in memory only:
/// a new activation starts empty, and a frontend is back on it with its next lease or renewal.
/// </summary>
internal sealed class PoolSubscribers(TimeProvider time)
{
    private readonly Dictionary<IKeyPoolObserver, DateTimeOffset> _expiry = new();

    public int Count => _expiry.Count;

    public void Renew(IKeyPoolObserver observer) =>
        _expiry[observer] = time.GetUtcNow() + IKeyPoolGrain.SubscriptionLifetime;

    /// <summary>Sends <paramref name="withdrawal"/> to every live subscriber (one-way), and forgets lapsed ones.</summary>
    public void Notify(KeyWithdrawal withdrawal, Action<Exception> onFailure)
    {
        var now = time.GetUtcNow();
        List<IKeyPoolObserver>? lapsed = null;
        foreach (var (observer, until) in _expiry)
        {
            if (until <= now)
            {
                (lapsed ??= []).Add(observer);
                continue;
            }
            try
            {
                _ = observer.KeyWithdrawnAsync(withdrawal);
            }
            catch (Exception ex)
            {
                onFailure(ex);
            }
        }
        lapsed?.ForEach(observer => _expiry.Remove(observer));
    }
}
