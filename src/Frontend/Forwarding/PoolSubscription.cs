namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Keeps this frontend subscribed to the pool's withdrawals (<see cref="KeyLeases"/> is the observer): at start,
/// every third of the subscription's lifetime, and at once when a lease shows that the pool moved to a new activation.
/// </summary>
public sealed partial class PoolSubscription(IGrainFactory grains, KeyLeases leases, TimeProvider time, ILogger<PoolSubscription> logger) : BackgroundService
{
    public static readonly TimeSpan RenewEvery = IKeyPoolGrain.SubscriptionLifetime / 3;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private TaskCompletionSource _wake = NewSignal();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        leases.NewPoolSeen += Wake;
        IKeyPoolObserver? observer = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                _wake = NewSignal(); // a new pool seen from here on triggers the next renewal early
                TimeSpan wait;
                try
                {
                    observer ??= grains.CreateObjectReference<IKeyPoolObserver>(leases);
                    await grains.GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool).SubscribeAsync(observer).WaitAsync(stoppingToken);
                    wait = RenewEvery;
                }
                catch (Exception ex) when (ex is OrleansException or TimeoutException or InvalidOperationException or ArgumentException)
                {
                    // no silo yet (cluster starting) or the pool is moving: leases still work, withdrawals wait for this
                    LogSubscribeFailed(logger, ex.GetType().Name);
                    wait = RetryDelay;
                }
                using var sleep = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                await Task.WhenAny(Task.Delay(wait, time, sleep.Token), _wake.Task);
                await sleep.CancelAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            leases.NewPoolSeen -= Wake;
            if (observer is not null)
            {
                grains.DeleteObjectReference<IKeyPoolObserver>(observer);
            }
        }
    }

    private void Wake() => _wake.TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "Could not subscribe to the key pool's withdrawals ({Error}); retrying")]
    private static partial void LogSubscribeFailed(ILogger logger, string error);
}
