namespace GeminiParty;

/// <summary>
/// The frontends that hold leased keys, each until its subscription lapses. Kept by the pool grain, in memory only:
/// a new activation starts empty. A frontend is back on it with its next lease or renewal, which comes within a
/// fraction of a second when the old activation announced the move (<see cref="AnnounceMoveAsync"/>).
/// </summary>
internal sealed class PoolSubscribers(TimeProvider time)
{
    /// <summary>The longest a penalty waits for one frontend to confirm it dropped the key.</summary>
    public static readonly TimeSpan NotifyTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a frontend the silo has no route to is asked again, when it renewed within that time: after the silo
    /// it used stops, a frontend reconnects through another one, which took up to about 2 s in CI (when it knew no other
    /// gateway yet and had to read the membership table first). One that renewed longer ago is most likely gone (it
    /// crashed) and is dropped at once.
    /// </summary>
    internal static readonly TimeSpan UnroutablePatience = TimeSpan.FromSeconds(3);

    /// <summary>How soon a frontend the silo had no route to is asked again.</summary>
    private static readonly TimeSpan UnroutableRetryDelay = TimeSpan.FromMilliseconds(50);

    private readonly Dictionary<IKeyPoolObserver, DateTimeOffset> _expiry = new();

    public int Count => _expiry.Count;

    public void Renew(IKeyPoolObserver observer) =>
        _expiry[observer] = time.GetUtcNow() + IKeyPoolGrain.SubscriptionLifetime;

    /// <summary>
    /// Tells every live subscriber of <paramref name="withdrawal"/> and waits for their answers, at most
    /// <see cref="NotifyTimeout"/>; forgets lapsed subscribers and those that cannot be reached (a frontend that is
    /// still alive subscribes again with its next lease or renewal).
    /// </summary>
    public Task NotifyAsync(KeyWithdrawal withdrawal, Action<Exception> onFailure) =>
        CallEachAsync(observer => observer.KeyWithdrawnAsync(withdrawal), onFailure);

    /// <summary>
    /// Tells every live subscriber that this activation is about to go away, so each renews its subscription often until
    /// it reaches the next one; waits for their answers as <see cref="NotifyAsync"/> does, so that a silo's shutdown goes
    /// on only once the frontends heard it, or after <see cref="NotifyTimeout"/>.
    /// </summary>
    public Task AnnounceMoveAsync(Action<Exception> onFailure) =>
        CallEachAsync(observer => observer.PoolMovingAsync(), onFailure);

    private async Task CallEachAsync(Func<IKeyPoolObserver, Task> call, Action<Exception> onFailure)
    {
        var now = time.GetUtcNow();
        var calls = new List<(IKeyPoolObserver Observer, DateTimeOffset Until, Task Call)>(_expiry.Count);
        foreach (var (observer, until) in _expiry)
        {
            var renewedLately = now - (until - IKeyPoolGrain.SubscriptionLifetime) < UnroutablePatience;
            calls.Add((observer, until, until <= now ? Task.FromCanceled(new CancellationToken(canceled: true)) : Call(observer, call, renewedLately)));
        }
        foreach (var (observer, until, pending) in calls)
        {
            try
            {
                await pending;
            }
            catch (OperationCanceledException)
            {
                Forget(observer, until); // lapsed
            }
            catch (Exception ex)
            {
                Forget(observer, until);
                onFailure(ex);
            }
        }
    }

    /// <summary>Drops a subscriber, unless it renewed while it was being called: then it is reachable again.</summary>
    private void Forget(IKeyPoolObserver observer, DateTimeOffset until)
    {
        if (_expiry.TryGetValue(observer, out var current) && current == until)
        {
            _expiry.Remove(observer);
        }
    }

    /// <summary>
    /// One call, answered within <see cref="NotifyTimeout"/>. A silo that has no route to the frontend yet (it is
    /// reconnecting through this silo's gateway, after the silo it used left) refuses the call at once; when the
    /// frontend renewed lately it is asked again for up to <see cref="UnroutablePatience"/>, so it is not dropped for
    /// being in the middle of reconnecting.
    /// </summary>
    private async Task Call(IKeyPoolObserver observer, Func<IKeyPoolObserver, Task> call, bool renewedLately)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            try
            {
                await call(observer).WaitAsync(NotifyTimeout, time);
                return;
            }
            catch (ClientNotAvailableException) when (renewedLately && time.GetElapsedTime(started) + UnroutableRetryDelay < UnroutablePatience)
            {
                await Task.Delay(UnroutableRetryDelay, time);
            }
        }
    }
}
