using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace GeminiParty;

/// <summary>
/// Decides which key serves each request. Rotation state lives in memory and is rebuilt from the key grains on
/// activation; leasing touches nothing else. Reentrant: every method changes memory synchronously before its first
/// await, so a slow persist never holds up leases.
/// </summary>
/// <remarks>
/// Counters and cooldowns are kept per model only for <see cref="KnownModels"/>; attempts on other names count under
/// <see cref="KnownModels.Unknown"/>. Each name still gets its own rotation from its first lease (a new model's first
/// requests go round the ring in order), but at most <see cref="MaxUnknownRotations"/> names not known yet do.
/// </remarks>
[Reentrant]
public sealed partial class KeyPoolGrain(
    PoolKeyAliases configured,
    IOptions<KeyPoolOptions> options,
    [FromKeyedServices(ServiceKeys.PoolClock)] TimeProvider time,
    ILocalSiloDetails localSilo,
    ILogger<KeyPoolGrain> logger) : Grain, IKeyPoolGrain
{
    private readonly KeyPoolOptions _options = options.Value;
    /// <summary>Rotations of names upstream has not served yet kept at most; beyond it they start over.</summary>
    internal const int MaxUnknownRotations = 64;

    private readonly KnownModels _known = new();
    private readonly Dictionary<string, ModelRotation> _rotations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModelRotation> _unknownRotations = new(StringComparer.Ordinal);
    private readonly PoolSubscribers _subscribers = new(time);
    private readonly AppliedBatches _applied = new();
    private readonly LiveSessionTally _liveSessions = new(time);
    private KeySlot[] _slots = [];

    /// <summary>Which keys are invalid, by index, read by every model's rotation on each lease (see <see cref="ModelRotation"/>).</summary>
    private bool[] _invalid = [];

    private KeyAlias[] _aliases = [];
    /// <summary>Each slot's key grain, by key index: resolved once, since GetGrain reads attributes by reflection on every call.</summary>
    private IKeyGrain[] _keyGrains = [];
    private DateTimeOffset _windowStart;
    private long _version;
    private Task _flushing = Task.CompletedTask;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _slots = configured.Aliases.Select(alias => new KeySlot(alias)).ToArray();
        _invalid = new bool[_slots.Length];
        _aliases = [.. configured.Aliases];
        _keyGrains = _slots.Select(slot => GrainFactory.GetGrain<IKeyGrain>($"{this.GetPrimaryKeyString()}/{slot.Alias.Fingerprint}")).ToArray();
        var records = await Task.WhenAll(_slots.Select(slot => KeyGrain(slot.Alias).GetAsync()));
        var now = time.GetUtcNow();
        foreach (var record in records)
        {
            Learn(record);
        }
        for (var i = 0; i < _slots.Length; i++)
        {
            Restore(_slots[i], records[i], now);
            _invalid[i] = _slots[i].Invalid is not null;
        }
        _windowStart = now;
        // versions keep growing across activations (as the clock does), so a frontend never mistakes a new pool's
        // withdrawal for an old one
        _version = now.UtcTicks;
        this.RegisterGrainTimer(
            static (pool, _) => pool.FlushCountersAsync(), this,
            new GrainTimerCreationOptions
            {
                DueTime = _options.CounterFlushInterval,
                Period = _options.CounterFlushInterval,
                Interleave = true,
            });
        LogActivated(logger, _slots.Length, _slots.Count(slot => slot.Invalid is not null));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        FlushCountersAsync();

    public ValueTask<KeyLease> LeaseAsync(string model, int count = 1, TriedKeys? tried = null, IKeyPoolObserver? holder = null)
    {
        if (holder is not null)
        {
            _subscribers.Renew(holder);
        }
        var now = time.GetUtcNow();
        var rotation = RotationFor(model, now);
        var wanted = Math.Clamp(count, 1, IKeyPoolGrain.MaxLeaseCount);
        var taken = new List<int>(wanted);
        rotation.Take(now, tried?.Indexes, wanted, taken);
        if (taken.Count == 0)
        {
            var allInvalid = Array.TrueForAll(_slots, slot => slot.Invalid is not null);
            return ValueTask.FromResult(new KeyLease([], rotation.EarliestReturn(now), allInvalid, _version));
        }
        var keys = new KeyAlias[taken.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = _aliases[taken[i]];
        }
        return ValueTask.FromResult(new KeyLease(keys, null, false, _version));
    }

    public Task SubscribeAsync(IKeyPoolObserver observer)
    {
        _subscribers.Renew(observer);
        return Task.CompletedTask;
    }

    public Task RecordAsync(ReportBatch batch)
    {
        var now = time.GetUtcNow();
        if (!_applied.TryMarkApplied(batch, now))
        {
            return Task.CompletedTask; // sent again after a lost acknowledgement: already counted
        }
        RollWindow(now);
        foreach (var report in batch.Reports)
        {
            SlotFor(report.Key)?.Count(Learn(report), report.Outcome, report.Tokens, now);
        }
        return Task.CompletedTask;
    }

    public async Task PenalizeAsync(AttemptReport report)
    {
        if (SlotFor(report.Key) is not { } slot)
        {
            return;
        }
        var now = time.GetUtcNow();
        RollWindow(now);
        var model = Learn(report);
        slot.Count(model, report.Outcome, null, now);
        var reason = report.Reason ?? report.Outcome.ToString();
        switch (report.Outcome)
        {
            case UpstreamOutcome.InvalidKey:
                if (slot.Invalid is null)
                {
                    slot.Invalid = new InvalidMark(reason, now);
                    _invalid[slot.Alias.Index] = true;
                    LogInvalid(logger, slot.Alias.Index, slot.Alias.Fingerprint, reason);
                    await Task.WhenAll(Withdraw(slot.Alias, model: null), KeyGrain(slot.Alias).MarkInvalidAsync(slot.Invalid));
                }
                break;

            // a name is known once it is rate limited; past KnownModels.MaxCount it is not, and its keys do not cool
            case UpstreamOutcome.RateLimited or UpstreamOutcome.DailyQuotaExhausted when model != KnownModels.Unknown:
                var until = report.Outcome == UpstreamOutcome.DailyQuotaExhausted
                    ? QuotaReset.NextPacificMidnight(now)
                    : now + (report.RetryDelay is { } delay && delay > TimeSpan.Zero ? delay : _options.BlacklistTimeout);
                if (slot.CoolingUntil(model, now) is { } current && current >= until)
                {
                    break;
                }
                var cooldown = new Cooldown(until, reason);
                slot.Cooldowns[model] = cooldown;
                RotationFor(model, now).ScheduleReturn(slot.Alias.Index, until);
                LogCooling(logger, slot.Alias.Index, slot.Alias.Fingerprint, model, until, reason);
                await Task.WhenAll(Withdraw(slot.Alias, model), KeyGrain(slot.Alias).CoolDownAsync(model, cooldown));
                break;
        }
    }

    public Task ReportLiveSessionsAsync(LiveSessionCounts counts)
    {
        _liveSessions.Apply(counts);
        return Task.CompletedTask;
    }

    public ValueTask<int> PingAsync() => ValueTask.FromResult(_slots.Length);

    public Task SiloStoppingAsync(SiloAddress silo) =>
        silo.Equals(localSilo.SiloAddress)
            ? Task.WhenAll(_subscribers.AnnounceMoveAsync(ex => LogMoveNotHeard(logger, ex.GetType().Name)), FlushCountersAsync())
            : FlushCountersAsync();

    public ValueTask<PoolStatus> GetStatusAsync()
    {
        var now = time.GetUtcNow();
        RollWindow(now);
        var keys = new KeyStatus[_slots.Length];
        var liveSessions = _liveSessions.Totals(_aliases);
        for (var i = 0; i < _slots.Length; i++)
        {
            var slot = _slots[i];
            keys[i] = new KeyStatus(
                slot.Alias,
                slot.Lifetime.ToDictionary(pair => pair.Key, pair => pair.Value.Clone(), StringComparer.Ordinal),
                new Dictionary<string, long>(slot.Recent, StringComparer.Ordinal),
                slot.Cooldowns.Where(pair => pair.Value.Until > now).ToDictionary(StringComparer.Ordinal),
                slot.Invalid,
                liveSessions[i]);
        }
        var resetIn = _windowStart + _options.RotationResetInterval - now;
        return ValueTask.FromResult(new PoolStatus(now, _windowStart, resetIn, keys, RuntimeIdentity));
    }

    /// <summary>Tells the frontends holding leased keys to drop this one (for the model, or everywhere), and waits for them.</summary>
    private Task Withdraw(KeyAlias key, string? model) =>
        _subscribers.NotifyAsync(new KeyWithdrawal(key, model, ++_version), ex => LogNotifyFailed(logger, ex.GetType().Name));

    private ModelRotation RotationFor(string model, DateTimeOffset now)
    {
        if (_rotations.TryGetValue(model, out var rotation) || _unknownRotations.TryGetValue(model, out rotation))
        {
            return rotation;
        }
        rotation = new ModelRotation(model, _slots, _invalid, now);
        if (_known.Contains(model))
        {
            _rotations[model] = rotation;
        }
        else
        {
            if (_unknownRotations.Count >= MaxUnknownRotations)
            {
                _unknownRotations.Clear(); // made-up names, most likely: they start over rather than pile up
            }
            _unknownRotations[model] = rotation;
        }
        return rotation;
    }

    /// <summary>Learns the report's model if the outcome shows upstream serves it, and returns the name to count it under.</summary>
    private string Learn(AttemptReport report)
    {
        if (_known.Contains(report.Model))
        {
            return report.Model;
        }
        if (!_known.Learn(report.Model, report.Outcome))
        {
            return KnownModels.Unknown;
        }
        if (_unknownRotations.Remove(report.Model, out var rotation))
        {
            _rotations[report.Model] = rotation; // keeps its place in the ring
        }
        return report.Model;
    }

    private KeySlot? SlotFor(KeyAlias key) =>
        (uint)key.Index < (uint)_slots.Length && _slots[key.Index].Alias.Fingerprint == key.Fingerprint
            ? _slots[key.Index]
            : null;

    private IKeyGrain KeyGrain(KeyAlias alias) => _keyGrains[alias.Index];

    private void RollWindow(DateTimeOffset now)
    {
        var interval = _options.RotationResetInterval;
        if (now - _windowStart < interval)
        {
            return;
        }
        var elapsedWindows = (now - _windowStart).Ticks / interval.Ticks;
        _windowStart += TimeSpan.FromTicks(interval.Ticks * elapsedWindows);
        foreach (var slot in _slots)
        {
            slot.Recent.Clear();
        }
    }

    /// <summary>Learns the models a key's stored counters or cooldowns show upstream serves.</summary>
    private void Learn(KeyRecord record)
    {
        foreach (var model in record.Cooldowns.Keys)
        {
            _known.Add(model);
        }
        foreach (var (model, counters) in record.Models)
        {
            if (counters.Successes + counters.RateLimited + counters.DailyQuotaExhausted > 0)
            {
                _known.Add(model);
            }
        }
    }

    private void Restore(KeySlot slot, KeyRecord record, DateTimeOffset now)
    {
        slot.Invalid = record.Invalid;
        foreach (var (model, cooldown) in record.Cooldowns)
        {
            if (cooldown.Until > now && _known.Contains(model))
            {
                slot.Cooldowns[model] = cooldown;
            }
        }
        foreach (var (model, counters) in record.Models)
        {
            // names stored before models had to be known (made-up ones, say) are shown together
            slot.AddLifetime(_known.Bucket(model), counters);
        }
    }

    /// <summary>
    /// Writes the pending counters after the flush before it has finished. A caller that finds a flush under way so
    /// waits until those counters are written too: a silo stopping at the same time as the one hosting the pool holds
    /// its key grains until then.
    /// </summary>
    private Task FlushCountersAsync() => _flushing = FlushAfterAsync(_flushing);

    private async Task FlushAfterAsync(Task previous)
    {
        await previous; // never faults: each write catches its own failure
        var flushes = new List<Task>();
        foreach (var slot in _slots)
        {
            if (slot.TakePending() is { } batch)
            {
                flushes.Add(FlushAsync(slot, batch));
            }
        }
        await Task.WhenAll(flushes);
    }

    private async Task FlushAsync(KeySlot slot, Dictionary<string, ModelCounters> batch)
    {
        try
        {
            await KeyGrain(slot.Alias).AddCountersAsync(batch);
        }
        catch (Exception ex)
        {
            slot.RestorePending(batch);
            LogFlushFailed(logger, slot.Alias.Index, ex.Message);
        }
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Key pool active with {KeyCount} keys ({InvalidCount} invalid)")]
    private static partial void LogActivated(ILogger logger, int keyCount, int invalidCount);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}) cooling for {Model} until {Until:O}: {Reason}")]
    private static partial void LogCooling(ILogger logger, int index, string fingerprint, string model, DateTimeOffset until, string reason);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}) marked invalid: {Reason}")]
    private static partial void LogInvalid(ILogger logger, int index, string fingerprint, string reason);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "A frontend could not be told of a withdrawn key ({Error}); its subscription is dropped until its next lease")]
    private static partial void LogNotifyFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "A frontend did not confirm it heard the pool is moving ({Error}); it reaches the next activation at its next renewal")]
    private static partial void LogMoveNotHeard(ILogger logger, string error);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Counters of key #{Index} not flushed, kept for the next flush: {Error}")]
    private static partial void LogFlushFailed(ILogger logger, int index, string error);
}
