namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Renews this frontend's subscription to the pool's withdrawals (<see cref="PoolWithdrawals"/> is the observer) every third
/// of its lifetime. Every lease subscribes too; this keeps a frontend that holds keys but leases nothing subscribed.
/// A new activation of the pool starts with no subscribers, and until this frontend is back on it, a withdrawal does
/// not reach it. So when the pool announces that it is about to move (its silo is stopping), the subscription is
/// renewed every <see cref="MovingRenewEvery"/> for a subscription's lifetime: whenever in that window the move
/// completes, this frontend is on the new activation a fraction of a second later, not up to <see cref="RenewEvery"/>.
/// After a crash there is no announcement: the renewal that falls due while the pool is unreachable is retried until
/// it answers again. The first subscription waits until the host has
/// started: an embedded silo publishes which grains it hosts only after it starts, and a call placed before that is
/// retried by Orleans with a warning and a stack trace in the log.
/// </summary>
public sealed partial class PoolSubscription(
    KeyPoolReference pool, PoolWithdrawals withdrawals, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<PoolSubscription> logger)
    : BackgroundService
{
    public static readonly TimeSpan RenewEvery = IKeyPoolGrain.SubscriptionLifetime / 3;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>How often the subscription is renewed while the pool is moving.</summary>
    public static readonly TimeSpan MovingRenewEvery = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken serviceStopping)
    {
        // the host's stop comes first: a stopping embedded process announces its own pool's move, and renewing toward a
        // silo that is shutting down only logs Orleans' placement failures; a stopping cluster frontend's subscription
        // outlives its drain
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(serviceStopping, lifetime.ApplicationStopping);
        var stoppingToken = stopping.Token;
        try
        {
            await WhenHostStarted(stoppingToken);
            var movingUntil = DateTimeOffset.MinValue;
            while (!stoppingToken.IsCancellationRequested)
            {
                var announced = withdrawals.PoolMoving; // read before subscribing: an announcement from here on wakes the wait
                TimeSpan wait;
                try
                {
                    await pool.Reference.SubscribeAsync(withdrawals.Reference).WaitAsync(stoppingToken);
                    wait = RenewEvery;
                }
                catch (Exception ex) when (ClusterUnreachable.Is(ex))
                {
                    // no silo yet (cluster starting) or the pool is moving; a lease subscribes too
                    LogRenewFailed(logger, ex.GetType().Name);
                    wait = RetryDelay;
                }
                if (time.GetUtcNow() < movingUntil)
                {
                    wait = MovingRenewEvery;
                }
                if (await WaitOrAnnouncedAsync(wait, announced, stoppingToken))
                {
                    LogPoolMoving(logger);
                    movingUntil = time.GetUtcNow() + IKeyPoolGrain.SubscriptionLifetime;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Waits <paramref name="wait"/>, or less when the pool announces a move; true in that case.</summary>
    private async Task<bool> WaitOrAnnouncedAsync(TimeSpan wait, Task announced, CancellationToken stoppingToken)
    {
        using var stopDelay = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = Task.Delay(wait, time, stopDelay.Token);
        var first = await Task.WhenAny(delay, announced);
        if (first == announced)
        {
            await stopDelay.CancelAsync(); // releases the timer
            return true;
        }
        await delay; // throws when stopping
        return false;
    }

    private async Task WhenHostStarted(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Debug, Message = "Could not renew the subscription to the key pool's withdrawals ({Error}); retrying")]
    private static partial void LogRenewFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Information, Message = "The key pool announced that it is about to move; renewing the subscription often until it has")]
    private static partial void LogPoolMoving(ILogger logger);
}
