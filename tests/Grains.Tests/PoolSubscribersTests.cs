using System.Reflection;

namespace GeminiParty.Grains.Tests;

/// <summary>
/// How the pool tells its subscribers: a frontend the silo has no route to yet (it is reconnecting after the silo it used
/// left) is asked again instead of dropped; one that never becomes reachable is dropped once the patience is up, and
/// one that has not renewed lately (gone) at once.
/// </summary>
public sealed class PoolSubscribersTests
{
    private static readonly KeyWithdrawal Withdrawal = new(new KeyAlias(1, "AIza...abcd"), "gemini-2.5-flash", 1);

    [Fact]
    public async Task A_frontend_that_becomes_reachable_within_the_notice_time_hears_the_withdrawal_and_stays_subscribed()
    {
        var subscribers = new PoolSubscribers(TimeProvider.System);
        var frontend = new UnroutableFor(calls: 3);
        subscribers.Renew(frontend);
        var failures = new List<Exception>();

        await subscribers.NotifyAsync(Withdrawal, failures.Add);

        Assert.Equal(Withdrawal, frontend.Heard);
        Assert.Empty(failures);
        Assert.Equal(1, subscribers.Count);
    }

    [Fact]
    public async Task A_frontend_that_stays_unreachable_is_dropped_once_the_patience_for_reconnecting_is_up()
    {
        var subscribers = new PoolSubscribers(TimeProvider.System);
        subscribers.Renew(new UnroutableFor(calls: int.MaxValue));
        var failures = new List<Exception>();
        var started = TimeProvider.System.GetTimestamp();

        await subscribers.NotifyAsync(Withdrawal, failures.Add);

        var elapsed = TimeProvider.System.GetElapsedTime(started);
        Assert.IsType<ClientNotAvailableException>(Assert.Single(failures));
        Assert.Equal(0, subscribers.Count);
        Assert.InRange(elapsed, PoolSubscribers.UnroutablePatience * 0.9, PoolSubscribers.UnroutablePatience * 2);
    }

    [Fact]
    public async Task A_frontend_that_has_not_renewed_lately_and_cannot_be_reached_is_dropped_at_once()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var subscribers = new PoolSubscribers(time);
        subscribers.Renew(new UnroutableFor(calls: int.MaxValue));
        time.Advance(PoolSubscribers.UnroutablePatience); // silent since: it crashed, most likely
        var failures = new List<Exception>();

        // nothing advances the fake clock from here: a retry would never end, so finishing proves there was none
        await subscribers.NotifyAsync(Withdrawal, failures.Add).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.IsType<ClientNotAvailableException>(Assert.Single(failures));
        Assert.Equal(0, subscribers.Count);
    }

    [Fact]
    public async Task A_frontend_that_renews_while_it_is_being_called_stays_subscribed_though_the_call_failed()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var subscribers = new PoolSubscribers(time);
        var frontend = new Hanging();
        subscribers.Renew(frontend);
        var failures = new List<Exception>();

        var notifying = subscribers.NotifyAsync(Withdrawal, failures.Add);
        time.Advance(TimeSpan.FromMilliseconds(500));
        subscribers.Renew(frontend); // its renewal reached the pool meanwhile: it is reachable again
        time.Advance(PoolSubscribers.NotifyTimeout);
        await notifying;

        Assert.IsType<TimeoutException>(Assert.Single(failures));
        Assert.Equal(1, subscribers.Count);
    }

    /// <summary>A frontend that never answers.</summary>
    private sealed class Hanging : IKeyPoolObserver
    {
        private readonly TaskCompletionSource _never = new();

        public Task KeyWithdrawnAsync(KeyWithdrawal withdrawal) => _never.Task;

        public Task PoolMovingAsync() => _never.Task;
    }

    /// <summary>A frontend the silo cannot route to for its first <paramref name="calls"/> calls, as Orleans refuses them.</summary>
    private sealed class UnroutableFor(int calls) : IKeyPoolObserver
    {
        private int _refused;

        public KeyWithdrawal? Heard { get; private set; }

        public Task KeyWithdrawnAsync(KeyWithdrawal withdrawal)
        {
            if (_refused++ < calls)
            {
                return Task.FromException(NoRoute());
            }
            Heard = withdrawal;
            return Task.CompletedTask;
        }

        public Task PoolMovingAsync() => Task.CompletedTask;

        // Orleans constructs it only internally (its message names the client)
        private static ClientNotAvailableException NoRoute() =>
            (ClientNotAvailableException)Activator.CreateInstance(typeof(ClientNotAvailableException),
                BindingFlags.Instance | BindingFlags.NonPublic, binder: null, ["No activation for client sys.client/test"], culture: null)!;
    }
}
