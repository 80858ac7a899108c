namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Renews this frontend's subscription to the pool's withdrawals (<see cref="KeyLeases"/> is the observer) every third
/// of its lifetime. Every lease subscribes too; this keeps a frontend that holds keys but leases nothing subscribed,
/// and puts it back on a pool that moved to another silo.
/// </summary>
public sealed partial class PoolSubscription(IGrainFactory grains, KeyLeases leases, TimeProvider time, ILogger<PoolSubscription> logger) : BackgroundService
{
    public static readonly TimeSpan RenewEvery = IKeyPoolGrain.SubscriptionLifetime / 3;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                TimeSpan wait;
                try
                {
                    await grains.GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool).SubscribeAsync(leases.Reference).WaitAsync(stoppingToken);
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

    [LoggerMessage(EventId = 3301, Level = LogLevel.Debug, Message = "Could not renew the subscription to the key pool's withdrawals ({Error}); retrying")]
    private static partial void LogRenewFailed(ILogger logger, string error);
}
