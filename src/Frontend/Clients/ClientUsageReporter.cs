using System.Collections.Concurrent;

namespace GeminiParty.Frontend.Clients;

/// <summary>
/// Carries the usage of requests that needed no per-request grain call (clients without limits, AUTH_TOKEN clients,
/// allowlist refusals) to the client grains in batches: one call per client every <see cref="FlushInterval"/>. A batch
/// is numbered and sent again until acknowledged, so a lost answer neither loses nor doubles it.
/// </summary>
public sealed partial class ClientUsageReporter(IGrainFactory grains, TimeProvider time, ILogger<ClientUsageReporter> logger) : BackgroundService
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>Past this many queued entries (the cluster unreachable for long), new ones are dropped: usage is statistics.</summary>
    private const int MaxQueued = 200_000;

    private readonly ConcurrentQueue<(string Client, string Model, UsageCounts Usage)> _queued = new();
    private readonly Dictionary<string, Outbox> _outboxes = new(StringComparer.Ordinal);
    private readonly Guid _sender = Guid.NewGuid();
    private readonly SemaphoreSlim _flushing = new(1, 1);

    public void Add(string client, string model, UsageCounts usage)
    {
        if (_queued.Count < MaxQueued)
        {
            _queued.Enqueue((client, model, usage));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException)
        {
        }
        await FlushAsync(); // what arrived before the stop
    }

    /// <summary>Sends what is queued; for tests and the stop.</summary>
    public async Task FlushAsync()
    {
        await _flushing.WaitAsync();
        try
        {
            await SendAsync();
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task SendAsync()
    {
        while (_queued.TryDequeue(out var entry))
        {
            if (!_outboxes.TryGetValue(entry.Client, out var outbox))
            {
                _outboxes[entry.Client] = outbox = new Outbox();
            }
            if (!outbox.Next.TryGetValue(entry.Model, out var counts))
            {
                outbox.Next[entry.Model] = counts = new UsageCounts();
            }
            counts.Add(entry.Usage);
        }
        foreach (var (client, outbox) in _outboxes)
        {
            if (outbox.Unacknowledged is null && outbox.Next.Count > 0)
            {
                outbox.Unacknowledged = new UsageBatch(_sender, ++outbox.Sequence, outbox.Next);
                outbox.Next = new Dictionary<string, UsageCounts>(StringComparer.Ordinal);
            }
            if (outbox.Unacknowledged is not { } batch)
            {
                continue;
            }
            try
            {
                await grains.GetGrain<IClientGrain>(client).RecordAsync(batch);
                outbox.Unacknowledged = null;
            }
            catch (Exception ex)
            {
                LogBatchNotAcknowledged(logger, ex, client, batch.Sequence);
            }
        }
    }

    private sealed class Outbox
    {
        public long Sequence;
        public UsageBatch? Unacknowledged;
        public Dictionary<string, UsageCounts> Next = new(StringComparer.Ordinal);
    }

    [LoggerMessage(EventId = 3302, Level = LogLevel.Warning, Message = "Usage batch {Sequence} of client {Client} not acknowledged; sending it again")]
    private static partial void LogBatchNotAcknowledged(ILogger logger, Exception exception, string client, long sequence);
}
