namespace GeminiParty;

/// <summary>
/// The frontends that hold leased keys, each until its subscription lapses. Kept by the pool grain, in memory only:
/// a new activation starts empty. A frontend is back on it with its next lease or renewal, which comes within a
/// fraction of a second when the old activation announced the move (<see cref="AnnounceMove"/>).
/// </summary>
internal sealed class PoolSubscribers(TimeProvider time)
{
    /// <summary>The longest a penalty waits for one frontend to confirm it dropped the key.</summary>
    public static readonly TimeSpan NotifyTimeout = TimeSpan.FromSeconds(1);

    private readonly Dictionary<IKeyPoolObserver, DateTimeOffset> _expiry = new();

    public int Count => _expiry.Count;

    public void Renew(IKeyPoolObserver observer) =>
        _expiry[observer] = time.GetUtcNow() + IKeyPoolGrain.SubscriptionLifetime;

    /// <summary>
    /// Tells every live subscriber of <paramref name="withdrawal"/> and waits for their answers, at most
    /// <see cref="NotifyTimeout"/>; forgets lapsed subscribers and those that cannot be reached (a frontend that is
    /// still alive subscribes again with its next lease or renewal).
    /// </summary>
    public async Task NotifyAsync(KeyWithdrawal withdrawal, Action<Exception> onFailure)
    {
        var now = time.GetUtcNow();
        var calls = new List<(IKeyPoolObserver Observer, Task Call)>(_expiry.Count);
        foreach (var (observer, until) in _expiry)
        {
            calls.Add((observer, until <= now ? Task.FromCanceled(new CancellationToken(canceled: true)) : Call(observer, withdrawal)));
        }
        foreach (var (observer, call) in calls)
        {
            try
            {
                await call;
            }
            catch (OperationCanceledException)
            {
                _expiry.Remove(observer); // lapsed
            }
            catch (Exception ex)
            {
                _expiry.Remove(observer);
                onFailure(ex);
            }
        }
    }

    /// <summary>Tells every live subscriber that this activation is about to go away, so each renews its subscription often until it reaches the next one.</summary>
    public void AnnounceMove(Action<Exception> onFailure)
    {
        var now = time.GetUtcNow();
        foreach (var (observer, until) in _expiry)
        {
            if (until > now)
            {
                try
                {
                    observer.PoolMovingAsync().Ignore(); // one-way: completes when sent
                }
                catch (Exception ex)
                {
                    onFailure(ex);
                }
            }
        }
    }

    private Task Call(IKeyPoolObserver observer, KeyWithdrawal withdrawal)
    {
        try
        {
            return observer.KeyWithdrawnAsync(withdrawal).WaitAsync(NotifyTimeout, time);
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }
}
