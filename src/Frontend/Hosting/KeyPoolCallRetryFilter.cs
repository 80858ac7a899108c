using System.Runtime.ExceptionServices;

namespace GeminiParty.Frontend.Hosting;

/// <summary>
/// Cluster mode: retries a call to the pool grain that failed because the cluster could not deliver it (the gateway
/// silo died, the silo hosting the pool died, the response never came) until the pool answers again from another
/// silo. Without it, every request in flight when a silo dies fails, and requests sent to the dead gateway fail until
/// membership declares it dead. Pool calls may repeat safely: a lease that got lost only counts one lease too many, and
/// penalties and reads are idempotent. Client grain calls ride it too: an admission sent twice counts the request twice
/// (a stricter limit for a moment, never a looser one).
/// </summary>
internal sealed partial class KeyPoolCallRetryFilter(TimeProvider time, ILogger<KeyPoolCallRetryFilter> logger) : IOutgoingGrainCallFilter
{
    /// <summary>Longer than it takes membership to declare a silo dead and the pool to activate elsewhere (~5 s).</summary>
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.Grain is not (IKeyPoolGrain or IClientGrain))
        {
            await context.Invoke();
            return;
        }
        var started = time.GetTimestamp();
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            ExceptionDispatchInfo? thrown = null;
            try
            {
                await context.Invoke();
            }
            catch (Exception ex)
            {
                thrown = ExceptionDispatchInfo.Capture(ex);
            }
            var failure = thrown?.SourceException ?? context.Response?.Exception;
            if (failure is null || !IsUndelivered(failure) || time.GetElapsedTime(started) + delay > GiveUpAfter)
            {
                thrown?.Throw();
                return;
            }
            LogRetrying(logger, failure, context.MethodName, attempt, delay.TotalMilliseconds);
            await Task.Delay(delay, time);
            delay = delay * 2 < MaxDelay ? delay * 2 : MaxDelay;
        }
    }

    /// <summary>Failures of the cluster's plumbing, not answers of the pool: worth sending again.</summary>
    private static bool IsUndelivered(Exception failure) =>
        failure is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException;

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning,
        Message = "Pool call {Method} not delivered (attempt {Attempt}); retrying in {DelayMs} ms")]
    private static partial void LogRetrying(ILogger logger, Exception exception, string method, int attempt, double delayMs);
}
