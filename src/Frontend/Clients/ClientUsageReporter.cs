using System.Collections.Concurrent;

namespace GeminiParty.Frontend.Clients;

/// <summary>
/// Carries the usage of requests that needed no per-request grain call (clients without limits, AUTH_TOKEN clients,
/// allowlist refusals) to the client grains in batches: one call per client every <see cref="FlushInterval"/>. A
/// request adds its counts in place, to one <see cref="PendingUsage"/> per client and model, so it allocates nothing
/// and nothing it counted waits in the heap for the next flush. A batch is numbered and sent again until acknowledged,
/// so a lost answer neither loses nor doubles it.
/// </summary>
public sealed partial class ClientUsageReporter(ClientGrains grains, TimeProvider time, ILogger<ClientUsageReporter> logger) : BackgroundService
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    /// <summary>Bounded by clients x model buckets (<see cref="KnownModels"/>), whatever the request rate.</summary>
    private readonly ConcurrentDictionary<(string Client, string Model), PendingUsage> _pending = new();
    private readonly Dictionary<string, Outbox> _outboxes = new(StringComparer.Ordinal);
    private readonly Guid _sender = Guid.NewGuid();
    private readonly SemaphoreSlim _flushing = new(1, 1);

    public void Add(string client, string model, long requests = 0, long errors = 0, long refused = 0, long rateLimited = 0, TokenCounts tokens = default) =>
        _pending.GetOrAdd((client, model), static _ => new PendingUsage()).Add(requests, errors, refused, rateLimited, tokens);

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

    /// <summary>Sends what was added since the last flush; for tests and the stop.</summary>
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
        foreach (var ((client, model), pending) in _pending)
        {
            if (pending.Take() is not { } taken)
            {
                continue;
            }
            if (!_outboxes.TryGetValue(client, out var outbox))
            {
                _outboxes[client] = outbox = new Outbox();
            }
            if (!outbox.Next.TryGetValue(model, out var counts))
            {
                outbox.Next[model] = counts = new UsageCounts();
            }
            counts.Add(taken);
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
                await grains.For(client).RecordAsync(batch);
                outbox.Unacknowledged = null;
            }
            catch (Exception ex)
            {
                LogBatchNotAcknowledged(logger, ex, client, batch.Sequence);
            }
        }
    }

    /// <summary>
    /// Counts added since the last flush. Each field is taken with its own exchange: a request counted while a flush
    /// takes them may land partly in this batch and partly in the next, but every count lands exactly once.
    /// </summary>
    private sealed class PendingUsage
    {
        private long _requests, _errors, _refused, _rateLimited, _prompt, _candidates, _total;

        public void Add(long requests, long errors, long refused, long rateLimited, TokenCounts tokens)
        {
            AddIfAny(ref _requests, requests);
            AddIfAny(ref _errors, errors);
            AddIfAny(ref _refused, refused);
            AddIfAny(ref _rateLimited, rateLimited);
            AddIfAny(ref _prompt, tokens.Prompt);
            AddIfAny(ref _candidates, tokens.Candidates);
            AddIfAny(ref _total, tokens.Total);
        }

        /// <summary>What was added since the last take, or null when nothing was.</summary>
        public UsageCounts? Take()
        {
            var counts = new UsageCounts
            {
                Requests = Interlocked.Exchange(ref _requests, 0),
                Errors = Interlocked.Exchange(ref _errors, 0),
                Refused = Interlocked.Exchange(ref _refused, 0),
                RateLimited = Interlocked.Exchange(ref _rateLimited, 0),
                PromptTokens = Interlocked.Exchange(ref _prompt, 0),
                CandidatesTokens = Interlocked.Exchange(ref _candidates, 0),
                TotalTokens = Interlocked.Exchange(ref _total, 0),
            };
            return counts is { Requests: 0, Errors: 0, Refused: 0, RateLimited: 0, PromptTokens: 0, CandidatesTokens: 0, TotalTokens: 0 } ? null : counts;
        }

        private static void AddIfAny(ref long field, long value)
        {
            if (value != 0)
            {
                Interlocked.Add(ref field, value);
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
