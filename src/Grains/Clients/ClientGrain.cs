using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GeminiParty;

/// <summary>
/// One named client's windows and usage for the whole cluster. Every admission of a client with limits is decided here,
/// one call at a time, so the limits hold exactly whatever the number of frontends. Windows live in memory; the usage
/// (which also seeds the daily windows on activation) is written behind on a timer, never per request.
/// </summary>
public sealed partial class ClientGrain(
    [PersistentState("usage", StorageNames.Clients)] IPersistentState<ClientUsageRecord> state,
    [FromKeyedServices(ServiceKeys.PoolClock)] TimeProvider time,
    ILogger<ClientGrain> logger) : Grain, IClientGrain
{
    public static readonly TimeSpan WriteBehind = TimeSpan.FromSeconds(5);
    public const int DaysKept = 31;
    public const int MinutesKept = 60;
    private static readonly TimeSpan ConcurrencyRetry = TimeSpan.FromSeconds(1);

    private readonly SlidingMinute _minute = new();
    private readonly Dictionary<Guid, long> _appliedBatches = [];
    private ConcurrencySlots _slots = null!;
    private string _today = "";
    private DateTimeOffset _nextMidnight;
    private UsageCounts _todayTotals = new();
    private bool _dirty;
    private IGrainTimer? _writer;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _slots = new ConcurrencySlots(time.GetUtcNow());
        _writer = this.RegisterGrainTimer(static (grain, _) => grain.WriteIfDirtyAsync(), this,
            new GrainTimerCreationOptions { DueTime = WriteBehind, Period = WriteBehind, Interleave = false });
        return Task.CompletedTask;
    }

    public Task<ClientDecision> AdmitAsync(string model, ClientLimits limits) => Task.FromResult(Decide(model, limits, admit: true));

    public Task<ClientDecision> CheckAsync(string model, ClientLimits limits) => Task.FromResult(Decide(model, limits, admit: false));

    private ClientDecision Decide(string model, ClientLimits limits, bool admit)
    {
        var now = time.GetUtcNow();
        RollDay(now);
        if (limits.RequestsPerMinute is not null)
        {
            _minute.Trim(now);
        }
        _slots.Expire(now);
        var untilMidnight = _nextMidnight - now;

        var (refusal, retryAfter) = limits switch
        {
            { RequestsPerMinute: { } rpm } when _minute.Count >= rpm => (ClientRefusal.RequestsPerMinute, _minute.NextFreeIn(now)),
            { RequestsPerDay: { } rpd } when _todayTotals.Requests >= rpd => (ClientRefusal.RequestsPerDay, untilMidnight),
            { TokensPerDay: { } tpd } when _todayTotals.TotalTokens >= tpd => (ClientRefusal.TokensPerDay, untilMidnight),
            { Concurrency: { } concurrency } when _slots.Count >= concurrency => (ClientRefusal.Concurrency, ConcurrencyRetry),
            _ => (ClientRefusal.None, TimeSpan.Zero),
        };
        long slot = 0;
        if (refusal == ClientRefusal.None && admit)
        {
            if (limits.RequestsPerMinute is not null)
            {
                _minute.Add(now);
            }
            if (limits.Concurrency is not null)
            {
                slot = _slots.Acquire(now);
            }
            Count(model, new UsageCounts { Requests = 1 }, now);
        }
        else if (refusal != ClientRefusal.None)
        {
            Count(model, new UsageCounts { Refused = 1, RateLimited = 1 }, now);
        }
        return new ClientDecision(refusal, retryAfter, slot, RequestWindow(limits, now, untilMidnight), TokenWindow(limits, untilMidnight));
    }

    public Task CompleteAsync(long slot, string model, UsageCounts usage)
    {
        var now = time.GetUtcNow();
        RollDay(now);
        if (slot != 0)
        {
            _slots.Release(slot);
        }
        Count(model, usage, now);
        return Task.CompletedTask;
    }

    public Task RenewAsync(long[] slots)
    {
        _slots.Renew(slots, time.GetUtcNow());
        return Task.CompletedTask;
    }

    public Task RecordAsync(UsageBatch batch)
    {
        if (_appliedBatches.TryGetValue(batch.Sender, out var last) && batch.Sequence <= last)
        {
            return Task.CompletedTask; // sent again because its answer was lost: already counted
        }
        _appliedBatches[batch.Sender] = batch.Sequence;
        var now = time.GetUtcNow();
        RollDay(now);
        foreach (var (model, usage) in batch.Models)
        {
            Count(model, usage, now);
        }
        return Task.CompletedTask;
    }

    public Task<ClientUsage> GetUsageAsync()
    {
        var now = time.GetUtcNow();
        RollDay(now);
        Prune(now);
        _minute.Trim(now);
        _slots.Expire(now);
        // copies: in embedded mode the caller shares this process, and the grain keeps counting while it reads
        var days = state.State.Days.ToDictionary(
            day => day.Key,
            day => day.Value.ToDictionary(model => model.Key, model => model.Value.Clone(), StringComparer.Ordinal),
            StringComparer.Ordinal);
        var minutes = state.State.Minutes.ToDictionary(minute => minute.Key, minute => minute.Value.Clone());
        return Task.FromResult(new ClientUsage(days, minutes, _today, _minute.Count, _slots.Count, now));
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _writer?.Dispose();
        await WriteIfDirtyAsync();
    }

    private LimitWindow? RequestWindow(ClientLimits limits, DateTimeOffset now, TimeSpan untilMidnight) => limits switch
    {
        { RequestsPerMinute: { } rpm } => new LimitWindow(rpm, Math.Max(0, rpm - _minute.Count), _minute.NextFreeIn(now)),
        { RequestsPerDay: { } rpd } => new LimitWindow(rpd, Math.Max(0, rpd - _todayTotals.Requests), untilMidnight),
        _ => null,
    };

    private LimitWindow? TokenWindow(ClientLimits limits, TimeSpan untilMidnight) => limits.TokensPerDay is { } tpd
        ? new LimitWindow(tpd, Math.Max(0, tpd - _todayTotals.TotalTokens), untilMidnight)
        : null;

    /// <summary>Adds usage to today, to this minute, and to the totals the daily windows read.</summary>
    private void Count(string model, UsageCounts usage, DateTimeOffset now)
    {
        if (!state.State.Days.TryGetValue(_today, out var models))
        {
            state.State.Days[_today] = models = new Dictionary<string, UsageCounts>(StringComparer.Ordinal);
        }
        if (!models.TryGetValue(model, out var counts))
        {
            models[model] = counts = new UsageCounts();
        }
        counts.Add(usage);
        var minute = now.ToUnixTimeSeconds() / 60;
        if (!state.State.Minutes.TryGetValue(minute, out var perMinute))
        {
            state.State.Minutes[minute] = perMinute = new UsageCounts();
        }
        perMinute.Add(usage);
        _todayTotals.Add(usage);
        _dirty = true;
    }

    /// <summary>At a Pacific midnight (or on activation), the daily windows start from what today's usage already holds.</summary>
    private void RollDay(DateTimeOffset now)
    {
        if (now < _nextMidnight)
        {
            return;
        }
        _today = QuotaReset.PacificDay(now);
        _nextMidnight = QuotaReset.NextPacificMidnight(now);
        _todayTotals = new UsageCounts();
        if (state.State.Days.TryGetValue(_today, out var models))
        {
            foreach (var counts in models.Values)
            {
                _todayTotals.Add(counts);
            }
        }
        Prune(now);
    }

    private void Prune(DateTimeOffset now)
    {
        var oldestDay = QuotaReset.PacificDay(now.AddDays(-(DaysKept - 1)));
        foreach (var day in state.State.Days.Keys)
        {
            if (string.CompareOrdinal(day, oldestDay) < 0)
            {
                state.State.Days.Remove(day);
                _dirty = true;
            }
        }
        var oldestMinute = now.ToUnixTimeSeconds() / 60 - (MinutesKept - 1);
        foreach (var minute in state.State.Minutes.Keys)
        {
            if (minute < oldestMinute)
            {
                state.State.Minutes.Remove(minute);
                _dirty = true;
            }
        }
    }

    private async Task WriteIfDirtyAsync()
    {
        if (!_dirty)
        {
            return;
        }
        Prune(time.GetUtcNow());
        _dirty = false;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _dirty = true; // usage stays in memory and goes with the next write
            LogWriteFailed(logger, ex, this.GetPrimaryKeyString());
        }
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Client {Client}: usage not persisted; kept in memory, retrying")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string client);
}
