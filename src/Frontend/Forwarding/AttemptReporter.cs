using System.Collections.Concurrent;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Carries outcomes that change no key state (successes above all) to the pool in batches: one one-way grain message
/// every <see cref="FlushInterval"/> instead of one per request. Penalties do not come here: they are awaited.
/// </summary>
public sealed partial class AttemptReporter(IGrainFactory grains, TimeProvider time, ILogger<AttemptReporter> logger) : BackgroundService
{
    /// <summary>How long a count may wait before the pool has it; /rotation-status lags by at most this much.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    private const int MaxBatch = 1024;

    private readonly ConcurrentQueue<AttemptReport> _pending = new();

    public void Report(AttemptReport report) => _pending.Enqueue(report);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Flush();
            }
        }
        catch (OperationCanceledException)
        {
        }
        Flush(); // what arrived before the stop
    }

    private void Flush()
    {
        while (!_pending.IsEmpty)
        {
            var batch = new List<AttemptReport>(Math.Min(_pending.Count, MaxBatch));
            while (batch.Count < MaxBatch && _pending.TryDequeue(out var report))
            {
                batch.Add(report);
            }
            try
            {
                // resolved per flush, not at construction: a cluster client knows the grain types only once connected
                _ = grains.GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool).RecordAsync([.. batch]);
            }
            catch (Exception ex) when (ex is OrleansException or InvalidOperationException or ArgumentException)
            {
                // counts are statistics: losing a batch while the cluster is unreachable must not stop the next ones
                LogBatchLost(logger, batch.Count, ex.GetType().Name);
            }
        }
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Warning, Message = "{Count} outcome reports not delivered to the pool ({Error})")]
    private static partial void LogBatchLost(ILogger logger, int count, string error);
}
