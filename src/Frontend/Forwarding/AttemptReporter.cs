using System.Collections.Concurrent;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Carries outcomes that change no key state (successes above all) to the pool in batches: one grain call every
/// <see cref="FlushInterval"/> instead of one per request. Penalties do not come here: they are awaited. Affinity waits
/// ride in the same batches, so the pool counts them per key, once, whichever frontend saw them.
/// </summary>
/// <remarks>
/// A batch is sent until the pool acknowledges it, one batch at a time and numbered, so the pool counts it once: when
/// the pool's silo dies, the batches sent to it are sent again to the pool's next activation instead of being lost with
/// the one-way messages they used to be.
/// </remarks>
public sealed partial class AttemptReporter(KeyPoolReference pool, TimeProvider time, ILogger<AttemptReporter> logger) : BackgroundService
{
    /// <summary>How long a count may wait before the pool has it; /rotation-status lags by at most this much.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    private const int MaxBatch = 1024;

    /// <summary>Reports kept while the pool cannot be reached; past this the oldest are dropped (counts are statistics).</summary>
    private const int MaxQueued = 200_000;

    private readonly ConcurrentQueue<AttemptReport> _pending = new();
    private readonly ConcurrentQueue<AffinityWait> _waits = new();
    private readonly Guid _sender = Guid.NewGuid();
    private long _sequence;
    private ReportBatch? _unacknowledged;

    public void Report(AttemptReport report) => _pending.Enqueue(report);

    /// <summary>A request naming a resource of the key <paramref name="fingerprint"/> started waiting for it to come back for <paramref name="model"/>.</summary>
    public void ReportAffinityWait(string fingerprint, string model) => _waits.Enqueue(new AffinityWait(fingerprint, model));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await SendPendingAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
        await SendPendingAsync(); // what arrived before the stop
    }

    /// <summary>Sends batches until none is left or one is not acknowledged; that one is sent again next time.</summary>
    private async Task SendPendingAsync()
    {
        DropOverflow();
        while ((_unacknowledged ??= NextBatch()) is { } batch)
        {
            try
            {
                await pool.Reference.RecordAsync(batch);
                _unacknowledged = null;
            }
            catch (Exception ex)
            {
                // the cluster is unreachable (or stopping): keep the batch, and the reports behind it, for the next try
                LogBatchNotAcknowledged(logger, ex, batch.Reports.Length, batch.Sequence);
                return;
            }
        }
    }

    private ReportBatch? NextBatch()
    {
        if (_pending.IsEmpty && _waits.IsEmpty)
        {
            return null;
        }
        var reports = Take(_pending);
        return new ReportBatch(_sender, ++_sequence, reports, _waits.IsEmpty ? null : Take(_waits));
    }

    private static T[] Take<T>(ConcurrentQueue<T> queue)
    {
        var taken = new List<T>(Math.Min(queue.Count, MaxBatch));
        while (taken.Count < MaxBatch && queue.TryDequeue(out var item))
        {
            taken.Add(item);
        }
        return [.. taken];
    }

    private void DropOverflow()
    {
        var dropped = 0;
        while (_pending.Count > MaxQueued && _pending.TryDequeue(out _))
        {
            dropped++;
        }
        while (_waits.Count > MaxQueued && _waits.TryDequeue(out _))
        {
            dropped++;
        }
        if (dropped > 0)
        {
            LogReportsDropped(logger, dropped, MaxQueued);
        }
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Warning, Message = "{Count} outcome reports (batch {Sequence}) not acknowledged by the pool; sending them again")]
    private static partial void LogBatchNotAcknowledged(ILogger logger, Exception exception, int count, long sequence);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "{Count} outcome reports dropped: more than {Max} waited for the pool")]
    private static partial void LogReportsDropped(ILogger logger, int count, int max);
}
