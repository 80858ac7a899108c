namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Renews this frontend's subscription to the pool's withdrawals (<see cref="KeyLeases"/> is the observer) every third
/// of its lifetime. Every lease subscribes too; this keeps a frontend that holds keys but leases nothing subscribed,
/// and puts it back on a pool that moved to another silo. The first subscription waits until the host has started:
/// an embedded silo publishes which grains it hosts only after it starts, and a call placed before that is retried
/// by Orleans with a warning and a stack trace in the log.
/// </summary>
public sealed partial class PoolSubscription(
    PoolGrain pool, KeyLeases leases, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<PoolSubscription> logger)
    : BackgroundService
{
    public static readonly TimeSpan RenewEvery = IKeyPoolGrain.SubscriptionLifetime / 3;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await WhenHostStarted(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                TimeSpan wait;
                try
                {
                    await pool.Reference.SubscribeAsync(leases.Reference).WaitAsync(stoppingToken);
                    wait = RenewEvery;
                }
                catch (Exception ex) when (ex is OrleansException or TimeoutException or InvalidOperationException or ArgumentException)
                {
                    // no silo yet (cluster starting) or the pool is moving; a lease subscribes too
                    LogRenewFailed(logger, ex.GetType().Name);
                    wait = RetryDelay;
                }
                await Task.Delay(wait, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WhenHostStarted(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Debug, Message = "Could not renew the subscription to the key pool's withdrawals ({Error}); retrying")]
    private static partial void LogRenewFailed(ILogger logger, string error);
}
