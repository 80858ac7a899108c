namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Renews this frontend's subscription to the pool's withdrawals (<see cref="KeyLeases"/> is the observer) every third
/// of its lifetime. Every lease subscribes too; this keeps a frontend that holds keys but leases nothing subscribed.
/// When the pool announces that its activation is going away (its silo stops, or it moves), the subscription is
/// renewed at once, which reaches the next activation, instead of up to <see cref="RenewEvery"/> later: in between,
/// a withdrawal would not reach this frontend. After a crash there is no announcement: the renewal that falls due
/// while the pool is unreachable is retried until it answers again. The first subscription waits until the host has
/// started: an embedded silo publishes which grains it hosts only after it starts, and a call placed before that is
/// retried by Orleans with a warning and a stack trace in the log.
/// </summary>
public sealed partial class PoolSubscription(
    PoolGrain pool, KeyLeases leases, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<PoolSubscription> logger)
    : BackgroundService
{
    public static readonly TimeSpan RenewEvery = IKeyPoolGrain.SubscriptionLifetime / 3;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Retries while the pool is between activations: it is back within a few hundred milliseconds.</summary>
    private static readonly TimeSpan MovingRetryDelay = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await WhenHostStarted(stoppingToken);
            var moving = false;
            while (!stoppingToken.IsCancellationRequested)
            {
                var announced = leases.PoolMoving; // read before subscribing: an announcement from here on wakes the wait
                TimeSpan wait;
                try
                {
                    await pool.Reference.SubscribeAsync(leases.Reference).WaitAsync(stoppingToken);
                    wait = RenewEvery;
                    moving = false;
                }
                catch (Exception ex) when (ex is OrleansException or TimeoutException or InvalidOperationException or ArgumentException)
                {
                    // no silo yet (cluster starting) or the pool is moving; a lease subscribes too
                    LogRenewFailed(logger, ex.GetType().Name);
                    wait = moving ? MovingRetryDelay : RetryDelay;
                }
                if (await WaitOrAnnouncedAsync(wait, announced, stoppingToken))
                {
                    LogPoolMoving(logger);
                    moving = true;
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

    [LoggerMessage(EventId = 3302, Level = LogLevel.Information, Message = "The key pool announced that its activation is going away; subscribing to the next one now")]
    private static partial void LogPoolMoving(ILogger logger);
}
