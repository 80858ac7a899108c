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
/// <para>
/// The grain owns the state and takes every call; each job is a part in <c>KeyPool/</c>: the key list
/// (<see cref="PoolKeys"/>, put in force by <see cref="KeyListReconciler"/>), the rotations and known models
/// (<see cref="PoolRotations"/>), the frontends' reports (<see cref="AttemptRecorder"/>), withdrawals
/// (<see cref="KeyWithdrawals"/>), probes (<see cref="KeyProbes"/>), waiting lines (<see cref="WaitLines"/>), an
/// operator's actions (<see cref="KeyAdministration"/>), the status (<see cref="PoolStatusSnapshot"/>) and the counters'
/// write-behind (<see cref="CounterFlusher"/>).
/// </para>
/// <para>
/// The key list is the one of the silo this activation runs on (<see cref="PoolKeyAliases"/>), checked every
/// KEY_CHECK_INTERVAL; frontends hold the secrets of their own list, and skip a leased key they do not hold, so
/// replicas that briefly disagree serve the keys they share.
/// </para>
/// <para>
/// Waiting lines: when every key of a model cools, requests that may wait join the model's <see cref="WaitLine"/>
/// (<see cref="JoinLineAsync"/>), sleep on their frontend until the time the pool expects a key, then claim one
/// (<see cref="ClaimAsync"/>). The light path is unchanged: a lease that finds a key makes no other call.
/// </para>
/// </remarks>
[Reentrant]
public sealed partial class KeyPoolGrain : Grain, IKeyPoolGrain
{
    private readonly PoolKeyAliases _configured;
    private readonly KeyPoolOptions _options;
    private readonly TimeProvider _time;
    private readonly ILocalSiloDetails _localSilo;
    private readonly ILogger<KeyPoolGrain> _logger;
    private readonly PoolSubscribers _subscribers;
    private readonly LiveSessionTally _liveSessions;
    private readonly PoolKeys _keys = new();
    private readonly PoolRotations _rotations;
    private readonly KeyWithdrawals _withdrawals;
    private readonly RecentCountsWindow _window;
    private readonly WaitLines _lines;
    private readonly AttemptRecorder _recorder;
    private readonly KeyProbes _probes;
    private readonly KeyListReconciler _reconciler;
    private readonly KeyAdministration _administration;
    private readonly PoolStatusSnapshot _status;
    private readonly CounterFlusher _flusher;

    public KeyPoolGrain(
        PoolKeyAliases configured,
        IOptions<KeyPoolOptions> options,
        [FromKeyedServices(ServiceKeys.PoolClock)] TimeProvider time,
        ILocalSiloDetails localSilo,
        IKeyProber prober,
        ILogger<KeyPoolGrain> logger)
    {
        _configured = configured;
        _options = options.Value;
        _time = time;
        _localSilo = localSilo;
        _logger = logger;
        _subscribers = new PoolSubscribers(time);
        _liveSessions = new LiveSessionTally(time);
        _rotations = new PoolRotations(_keys, _options.PaidFirst);
        _withdrawals = new KeyWithdrawals(_subscribers, logger);
        _window = new RecentCountsWindow(_options.RotationResetInterval);
        _lines = new WaitLines(_keys, _rotations, _withdrawals, time, logger);
        _recorder = new AttemptRecorder(_keys, _rotations, _withdrawals, _window, _options, time, logger);
        _probes = new KeyProbes(_keys, _rotations, _withdrawals, prober, _options, time, logger);
        _reconciler = new KeyListReconciler(_keys, _rotations, _withdrawals, KeyGrainOf, _options, time, logger);
        _administration = new KeyAdministration(_keys, _rotations, _withdrawals, _probes, time, logger);
        _status = new PoolStatusSnapshot(_keys, _window, _lines, _liveSessions, _options.PaidFirst, time);
        _flusher = new CounterFlusher(_keys, logger);
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        _window.StartAt(now);
        _withdrawals.StartAt(now);
        _lines.StartAt(now);
        await _reconciler.ReconcileAsync(_configured.Keys);
        this.RegisterGrainTimer(
            static (pool, _) => pool._flusher.FlushAsync(), this,
            new GrainTimerCreationOptions
            {
                DueTime = _options.CounterFlushInterval,
                Period = _options.CounterFlushInterval,
                Interleave = true,
            });
        this.RegisterGrainTimer(
            static (pool, _) => pool.CheckKeysAsync(), this,
            new GrainTimerCreationOptions
            {
                DueTime = _options.KeyCheckInterval,
                Period = _options.KeyCheckInterval,
                Interleave = true,
            });
        LogActivated(_logger, _keys.Slots.Length, _keys.Slots.Count(slot => slot.Invalid is not null));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _flusher.FlushAsync();

    public ValueTask<KeyLease> LeaseAsync(string model, int count = 1, TriedKeys? tried = null, IKeyPoolObserver? holder = null)
    {
        if (holder is not null)
        {
            _subscribers.Renew(holder);
        }
        var now = _time.GetUtcNow();
        if (_lines.Has(model, now))
        {
            // others wait for this model: a key that came back is theirs first, and this request queues behind them
            return ValueTask.FromResult(new KeyLease([], now, false, _withdrawals.Version));
        }
        var rotation = _rotations.For(model, now);
        var wanted = Math.Clamp(count, 1, IKeyPoolGrain.MaxLeaseCount);
        var taken = new List<int>(wanted);
        rotation.Take(now, tried?.Indexes, wanted, taken);
        if (taken.Count == 0)
        {
            return ValueTask.FromResult(new KeyLease([], rotation.EarliestReturn(now), _keys.AllOut, _withdrawals.Version));
        }
        var keys = new KeyAlias[taken.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = _keys.Slots[taken[i]].Alias;
        }
        return ValueTask.FromResult(new KeyLease(keys, null, false, _withdrawals.Version));
    }

    public ValueTask<WaitTicket> JoinLineAsync(string model, DateTimeOffset deadline, int maxWaiting) =>
        ValueTask.FromResult(_lines.Join(model, deadline, maxWaiting));

    public ValueTask<KeyLease> ClaimAsync(string model, long ticket, DateTimeOffset deadline) =>
        _lines.ClaimAsync(model, ticket, deadline);

    public Task LeaveLineAsync(string model, long ticket)
    {
        _lines.Leave(model, ticket);
        return Task.CompletedTask;
    }

    public ValueTask<KeyLease> LeaseKeyAsync(string model, string fingerprint)
    {
        var slot = _keys.ByFingerprint(fingerprint);
        if (slot is null || slot.IsOut) // invalid, disabled or removed: the resource must be re-created
        {
            return ValueTask.FromResult(new KeyLease([], null, true, _withdrawals.Version));
        }
        return ValueTask.FromResult(slot.CoolingUntil(model, _time.GetUtcNow()) is { } until
            ? new KeyLease([], until, false, _withdrawals.Version)
            : new KeyLease([slot.Alias], null, false, _withdrawals.Version));
    }

    public Task SubscribeAsync(IKeyPoolObserver observer)
    {
        _subscribers.Renew(observer);
        return Task.CompletedTask;
    }

    public Task RecordAsync(ReportBatch batch) => _recorder.RecordAsync(batch);

    public Task PenalizeAsync(AttemptReport report) => _recorder.PenalizeAsync(report);

    public Task ReportLiveSessionsAsync(LiveSessionCounts counts)
    {
        _liveSessions.Apply(counts);
        return Task.CompletedTask;
    }

    public ValueTask<int> PingAsync() => ValueTask.FromResult(_keys.Slots.Count(slot => !slot.Removed));

    public Task SiloStoppingAsync(SiloAddress silo) =>
        silo.Equals(_localSilo.SiloAddress)
            ? Task.WhenAll(_subscribers.AnnounceMoveAsync(ex => LogMoveNotHeard(_logger, ex)), _flusher.FlushAsync())
            : _flusher.FlushAsync();

    public ValueTask<PoolStatus> GetStatusAsync() => ValueTask.FromResult(_status.Take(RuntimeIdentity));

    public Task<KeyAdminResult> AdminAsync(string target, KeyAdminAction action, string by) =>
        _administration.ApplyAsync(target, action, by);

    /// <summary>The timer's work: takes a changed key list, and starts the probes that are due.</summary>
    private async Task CheckKeysAsync()
    {
        var list = _configured.Keys;
        if (!ReferenceEquals(list, _reconciler.Applied))
        {
            await _reconciler.ReconcileAsync(list);
        }
        _probes.StartDue();
    }

    /// <summary>A key's grain, named for the pool and the key's fingerprint.</summary>
    private IKeyGrain KeyGrainOf(string fingerprint) =>
        GrainFactory.GetGrain<IKeyGrain>($"{this.GetPrimaryKeyString()}/{fingerprint}");

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Key pool active with {KeyCount} keys ({InvalidCount} invalid)")]
    private static partial void LogActivated(ILogger logger, int keyCount, int invalidCount);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "A frontend did not confirm it heard the pool is moving; it reaches the next activation at its next renewal")]
    private static partial void LogMoveNotHeard(ILogger logger, Exception exception);
}
