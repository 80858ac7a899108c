using Microsoft.Extensions.Logging;

namespace GeminiParty.Hosting;

/// <summary>
/// Tells the pool as soon as this silo starts shutting down: it flushes its write-behind counters and, when it lives
/// here, announces its move to the frontends (<see cref="IKeyPoolGrain.SiloStoppingAsync"/>). The pool also flushes when it
/// deactivates, but by then the other silos may be shutting down too (a full stop, <c>docker compose down</c>) and the
/// key grains on them unreachable: this runs first, before any silo deactivates grains, and holds this silo's
/// shutdown until the counters are written.
/// </summary>
internal sealed partial class PoolShutdownNotice(IGrainFactory grains, ILocalSiloDetails localSilo, ILogger<PoolShutdownNotice> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(10);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PoolShutdownNotice), ServiceLifecycleStage.Active, _ => Task.CompletedTask, NotifyPoolAsync);

    private async Task NotifyPoolAsync(CancellationToken cancellationToken)
    {
        try
        {
            await grains.GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool).SiloStoppingAsync(localSilo.SiloAddress).WaitAsync(FlushTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException or OperationCanceledException)
        {
            LogFlushFailed(logger, ex);
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Pool counters not flushed at shutdown")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
