using System.Globalization;
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
/// Counters and cooldowns are kept per model only for <see cref="KnownModels"/>; attempts on other names count under
/// <see cref="KnownModels.Unknown"/>. Each name still gets its own rotation from its first lease (a new model's first
/// requests go round the ring in order), but at most <see cref="KnownModels.MaxUnknownTracked"/> names not known yet do.
/// </para>
/// <para>
/// The key list: a key's identity is its fingerprint (its key grain is <c>{pool}/{fingerprint}</c>). Its index is
/// its place in the list when this activation first saw it, and it does not change while the activation lives: a key
/// added by a reload takes the next index, a removed key keeps its index (and its history, shown as removed) and gets
/// it back if it returns. A new activation numbers the keys in list order again. The list is the one of the silo this
/// activation runs on (<see cref="PoolKeyAliases"/>), checked every KEY_CHECK_INTERVAL; frontends hold the secrets of
/// their own list, and skip a leased key they do not hold, so replicas that briefly disagree serve the keys they share.
/// </para>
/// <para>
/// Probes: the pool is the one owner of each key's health schedule (one activation in the cluster; the schedule is
/// persisted with the key, so a pool that moves does not probe again early). When a probe is due it asks the
/// <see cref="IKeyProber"/> of the silo it runs on, which holds the secrets.
/// </para>
/// <para>
/// Waiting lines: when every key of a model cools, requests that may wait join the model's <see cref="WaitLine"/>
/// (<see cref="JoinLineAsync"/>), sleep on their frontend until the time the pool expects a key, then claim one
/// (<see cref="ClaimAsync"/>). Only the head of the line gets a key, and while the line holds anyone a new lease of the
/// model gets none, so a key that returns serves the longest waiter first, whichever frontend it waits on. A claim
/// behind others waits here for its turn (this grain is reentrant: nothing else is held up), never longer than
/// <see cref="ClaimPatience"/> per call. The light path is unchanged: a lease that finds a key makes no other call.
/// </para>
/// </remarks>
[Reentrant]
public sealed partial class KeyPoolGrain(
    PoolKeyAliases configured,
    IOptions<KeyPoolOptions> options,
    [FromKeyedServices(ServiceKeys.PoolClock)] TimeProvider time,
    ILocalSiloDetails localSilo,
    IKeyProber prober,
    ILogger<KeyPoolGrain> logger) : Grain, IKeyPoolGrain
{
    private readonly KeyPoolOptions _options = options.Value;

    /// <summary>Probes running at once at most, so a list of many bad keys does not burst upstream.</summary>
    private const int MaxProbesInFlight = 4;

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The longest a claim waits in the pool for its turn before its frontend is told to claim again.</summary>
    private static readonly TimeSpan ClaimPatience = TimeSpan.FromSeconds(10);

    /// <summary>How soon a probe is tried again when this silo does not hold the key yet (its key file is behind).</summary>
    private static readonly TimeSpan NotHeldRetry = TimeSpan.FromSeconds(15);

    private readonly KnownModels _known = new();
    private readonly Dictionary<string, ModelRotation> _rotations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModelRotation> _unknownRotations = new(StringComparer.Ordinal);
    private readonly PoolSubscribers _subscribers = new(time);
    private readonly AppliedBatches _applied = new();
    private readonly Dictionary<string, int> _byFingerprint = new(StringComparer.Ordinal);
    private readonly LiveSessionTally _liveSessions = new(time);

    /// <summary>Each model's line of requests waiting for a key; a model is here only while its line holds tickets.</summary>
    private readonly Dictionary<string, WaitLine> _lines = new(StringComparer.Ordinal);
    private long _lastTicket;
    private KeySlot[] _slots = [];

    /// <summary>Which keys no model may lease (invalid, disabled, removed), by index, read by every rotation on each lease.</summary>
    private bool[] _out = [];

    /// <summary>The keys of each quota group, by <see cref="KeySlot.Group"/>.</summary>
    private int[][] _groups = [];

    /// <summary>Each slot's key grain, by key index: resolved once, since GetGrain reads attributes by reflection on every call.</summary>
    private IKeyGrain[] _keyGrains = [];
    private IReadOnlyList<ConfiguredKey>? _appliedList;
    private Task _reconciling = Task.CompletedTask;
    private int _probesInFlight;
    private DateTimeOffset _windowStart;
    private long _version;
    private Task _flushing = Task.CompletedTask;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        _windowStart = now;
        // versions keep growing across activations (as the clock does), so a frontend never mistakes a new pool's
        // withdrawal for an old one
        _version = now.UtcTicks;
        _lastTicket = now.UtcTicks; // like versions: a ticket of an earlier activation is not mistaken for a new one
        await ReconcileAsync(configured.Keys);
        this.RegisterGrainTimer(
            static (pool, _) => pool.FlushCountersAsync(), this,
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
        if (_lines.Count > 0 && HasLine(model, now))
        {
            // others wait for this model: a key that came back is theirs first, and this request queues behind them
            return ValueTask.FromResult(new KeyLease([], now, false, _version));
        }
        var rotation = RotationFor(model, now);
        var wanted = Math.Clamp(count, 1, IKeyPoolGrain.MaxLeaseCount);
        var taken = new List<int>(wanted);
        rotation.Take(now, tried?.Indexes, wanted, taken);
        if (taken.Count == 0)
        {
            var allInvalid = Array.TrueForAll(_slots, slot => slot.IsOut);
            return ValueTask.FromResult(new KeyLease([], rotation.EarliestReturn(now), allInvalid, _version));
        }
        var keys = new KeyAlias[taken.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = _slots[taken[i]].Alias;
        }
        return ValueTask.FromResult(new KeyLease(keys, null, false, _version));
    }

    public ValueTask<WaitTicket> JoinLineAsync(string model, DateTimeOffset deadline, int maxWaiting)
    {
        var now = time.GetUtcNow();
        var rotation = RotationFor(model, now);
        var expected = rotation.AnyUsable(now) ? now : rotation.EarliestReturn(now);
        if (expected is null || expected > deadline)
        {
            return ValueTask.FromResult(new WaitTicket(0, expected)); // nothing returns within the request's wait
        }
        _lines.TryGetValue(model, out var line);
        if (line is not null && line.Count >= maxWaiting && !line.Prune(now) && line.Count >= maxWaiting)
        {
            return ValueTask.FromResult(new WaitTicket(0, expected, LineFull: true));
        }
        if (line is null)
        {
            _lines[model] = line = new WaitLine();
        }
        var ticket = line.Join(++_lastTicket, deadline, expected.Value);
        LogJoined(logger, model, ticket.Id, line.Count, expected.Value);
        return ValueTask.FromResult(new WaitTicket(ticket.Id, expected, Place: line.Count));
    }

    public async ValueTask<KeyLease> ClaimAsync(string model, long ticket, DateTimeOffset deadline)
    {
        var started = time.GetUtcNow();
        for (var first = true; ; first = false)
        {
            var now = time.GetUtcNow();
            if (!_lines.TryGetValue(model, out var line))
            {
                _lines[model] = line = new WaitLine();
            }
            if (line.Find(ticket) is { } known)
            {
                known.Claiming = true; // claiming now: not a head that stalled
            }
            line.Prune(now);
            var place = line.Find(ticket);
            if (place is null)
            {
                if (!first)
                {
                    DropIfEmpty(model, line);
                    return new KeyLease([], null, false, _version); // left the line meanwhile (its client went, or its wait ended)
                }
                place = line.Join(ticket, deadline, now); // a ticket of an earlier activation, or one that lost its place: the tail
            }
            var rotation = RotationFor(model, now);
            if (!rotation.AnyUsable(now))
            {
                place.Claiming = false;
                var back = rotation.EarliestReturn(now);
                if (back is null || back > deadline)
                {
                    line.Remove(ticket);
                    DropIfEmpty(model, line);
                    return new KeyLease([], back, back is null && Array.TrueForAll(_slots, slot => slot.IsOut), _version);
                }
                place.ExpectedAt = back.Value; // the keys cooled again: claim again then, keeping the place
                return new KeyLease([], back, false, _version);
            }
            if (line.IsHead(place))
            {
                var taken = new List<int>(1);
                rotation.Take(now, null, 1, taken);
                line.Remove(ticket);
                DropIfEmpty(model, line);
                LogServedFromLine(logger, model, ticket, taken[0], line.Count);
                return new KeyLease([_slots[taken[0]].Alias], null, false, _version);
            }
            if (now - started > ClaimPatience)
            {
                place.Claiming = false;
                place.ExpectedAt = now;
                return new KeyLease([], now, false, _version); // still behind others: the frontend claims again at once
            }
            try
            {
                // reentrant: the pool serves everyone else meanwhile; the head's claim (or its expiry) wakes this one
                await place.Turn.Task.WaitAsync(WaitLine.ClaimGrace, time);
            }
            catch (TimeoutException)
            {
                // the head did not claim: the next round drops it if it is overdue
            }
        }
    }

    public Task LeaveLineAsync(string model, long ticket)
    {
        if (_lines.TryGetValue(model, out var line))
        {
            line.Remove(ticket);
            DropIfEmpty(model, line);
        }
        return Task.CompletedTask;
    }

    /// <summary>Whether requests wait in the model's line (dropping expired tickets first).</summary>
    private bool HasLine(string model, DateTimeOffset now)
    {
        if (!_lines.TryGetValue(model, out var line))
        {
            return false;
        }
        if (line.Prune(now))
        {
            _lines.Remove(model);
            return false;
        }
        return true;
    }

    private void DropIfEmpty(string model, WaitLine line)
    {
        if (line.Count == 0)
        {
            _lines.Remove(model);
        }
    }

    public ValueTask<KeyLease> LeaseKeyAsync(string model, string fingerprint)
    {
        var slot = Array.Find(_slots, slot => slot.Alias.Fingerprint == fingerprint);
        if (slot is null || slot.IsOut) // invalid, disabled or removed: the resource must be re-created
        {
            return ValueTask.FromResult(new KeyLease([], null, true, _version));
        }
        var now = time.GetUtcNow();
        return ValueTask.FromResult(slot.CoolingUntil(model, now) is { } until
            ? new KeyLease([], until, false, _version)
            : new KeyLease([slot.Alias], null, false, _version));
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
        List<Task>? benched = null;
        foreach (var report in batch.Reports)
        {
            if (SlotFor(report.Key) is not { } slot)
            {
                continue;
            }
            var model = Learn(report);
            slot.Count(model, report.Outcome, report.Tokens, now);
            if (report.Outcome == UpstreamOutcome.Success)
            {
                slot.TransientInARow = 0;
            }
            else if (report.Outcome == UpstreamOutcome.Transient && ++slot.TransientInARow >= _options.KeyTransientLimit)
            {
                slot.TransientInARow = 0;
                (benched ??= []).Add(BenchAfterTransientsAsync(slot, model, now));
            }
        }
        foreach (var wait in batch.Waits ?? [])
        {
            if (_byFingerprint.TryGetValue(wait.Fingerprint, out var index))
            {
                // the owner cooled for the model, so the pool knows its name; anything else is bucketed as reports are
                _slots[index].CountAffinityWait(_known.Contains(wait.Model) ? wait.Model : KnownModels.Unknown);
            }
        }
        return benched is null ? Task.CompletedTask : Task.WhenAll(benched);
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
        slot.TransientInARow = 0;
        var reason = report.Reason ?? report.Outcome.ToString();
        switch (report.Outcome)
        {
            case UpstreamOutcome.InvalidKey:
                if (slot.Invalid is null)
                {
                    await MarkInvalidAsync(slot, reason, now);
                }
                break;

            // a name is known once it is rate limited; past KnownModels.MaxCount it is not, and its keys do not cool
            case UpstreamOutcome.RateLimited or UpstreamOutcome.DailyQuotaExhausted when model != KnownModels.Unknown:
                var until = report.Outcome == UpstreamOutcome.DailyQuotaExhausted
                    ? QuotaReset.NextPacificMidnight(now)
                    : now + (report.RetryDelay is { } delay && delay > TimeSpan.Zero ? delay : _options.BlacklistTimeout);
                // Google meters quota per project and model: every key of the project is out of that model's quota
                var cooling = new List<Task>();
                foreach (var member in _groups[slot.Group])
                {
                    var memberReason = member == slot.Alias.Index ? reason : $"{reason} (same project as key #{slot.Alias.Index})";
                    if (CoolDown(_slots[member], model, until, memberReason, now) is { } persisted)
                    {
                        cooling.Add(persisted);
                    }
                }
                await Task.WhenAll(cooling);
                break;
        }
    }

    public Task ReportLiveSessionsAsync(LiveSessionCounts counts)
    {
        _liveSessions.Apply(counts);
        return Task.CompletedTask;
    }

    public ValueTask<int> PingAsync() => ValueTask.FromResult(_slots.Count(slot => !slot.Removed));

    public Task SiloStoppingAsync(SiloAddress silo) =>
        silo.Equals(localSilo.SiloAddress)
            ? Task.WhenAll(_subscribers.AnnounceMoveAsync(ex => LogMoveNotHeard(logger, ex)), FlushCountersAsync())
            : FlushCountersAsync();

    public ValueTask<PoolStatus> GetStatusAsync()
    {
        var now = time.GetUtcNow();
        RollWindow(now);
        var keys = new KeyStatus[_slots.Length];
        var liveSessions = _liveSessions.Totals(Array.ConvertAll(_slots, slot => slot.Alias));
        for (var i = 0; i < _slots.Length; i++)
        {
            var slot = _slots[i];
            keys[i] = new KeyStatus(
                slot.Alias,
                slot.Lifetime.ToDictionary(pair => pair.Key, pair => pair.Value.Clone(), StringComparer.Ordinal),
                new Dictionary<string, long>(slot.Recent, StringComparer.Ordinal),
                slot.Cooldowns.Where(pair => pair.Value.Until > now).ToDictionary(StringComparer.Ordinal),
                slot.Invalid,
                liveSessions[i],
                slot.Attributes,
                slot.Removed,
                slot.Disabled,
                slot.Probe?.Clone());
        }
        var resetIn = _windowStart + _options.RotationResetInterval - now;
        var waiting = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var model in _lines.Keys.ToArray())
        {
            if (HasLine(model, now))
            {
                waiting[model] = _lines[model].Count;
            }
        }
        return ValueTask.FromResult(new PoolStatus(now, _windowStart, resetIn, keys, RuntimeIdentity, _options.PaidFirst, waiting));
    }

    public async Task<KeyAdminResult> AdminAsync(string target, KeyAdminAction action, string by)
    {
        if (Find(target) is not { } slot)
        {
            return new KeyAdminResult(null);
        }
        var now = time.GetUtcNow();
        var grain = KeyGrain(slot.Alias);
        switch (action)
        {
            case KeyAdminAction.Disable:
                if (slot.Disabled is null)
                {
                    slot.Disabled = new DisabledMark(by, now);
                    _out[slot.Alias.Index] = true;
                    LogDisabled(logger, slot.Alias.Index, slot.Alias.Fingerprint, by);
                    await Task.WhenAll(Withdraw(slot.Alias, model: null), grain.SetDisabledAsync(slot.Disabled));
                }
                return new KeyAdminResult(slot.Alias);

            case KeyAdminAction.Enable:
                var wasInvalid = slot.Invalid is not null;
                slot.Disabled = null;
                slot.Invalid = null;
                if (slot.Probe is { } probe)
                {
                    probe.NextAt = null;
                    probe.FailedInARow = 0;
                }
                Rejoin(slot, now);
                LogEnabled(logger, slot.Alias.Index, slot.Alias.Fingerprint, by, wasInvalid);
                await Task.WhenAll(grain.SetDisabledAsync(null), grain.ClearInvalidAsync(),
                    slot.Probe is null ? Task.CompletedTask : grain.SetProbeAsync(slot.Probe));
                return new KeyAdminResult(slot.Alias);

            case KeyAdminAction.ClearCooldowns:
                slot.Cooldowns.Clear();
                Rejoin(slot, now);
                LogCooldownsCleared(logger, slot.Alias.Index, slot.Alias.Fingerprint, by);
                await grain.ClearCooldownsAsync();
                return new KeyAdminResult(slot.Alias);

            case KeyAdminAction.Reset:
                slot.ResetCounters();
                LogCountersReset(logger, slot.Alias.Index, slot.Alias.Fingerprint, by);
                await grain.ResetCountersAsync();
                return new KeyAdminResult(slot.Alias);

            case KeyAdminAction.Probe:
                return new KeyAdminResult(slot.Alias, await ProbeAsync(slot));

            default:
                throw new ArgumentOutOfRangeException(nameof(action), action, "not an admin action");
        }
    }

    /// <summary>The timer's work: takes a changed key list, and starts the probes that are due.</summary>
    private async Task CheckKeysAsync()
    {
        var list = configured.Keys;
        if (!ReferenceEquals(list, _appliedList))
        {
            await ReconcileAsync(list);
        }
        var now = time.GetUtcNow();
        foreach (var slot in _slots)
        {
            if (_probesInFlight >= MaxProbesInFlight)
            {
                break;
            }
            if (!slot.Removed && !slot.Probing && slot.Probe?.NextAt is { } due && due <= now)
            {
                _ = ProbeInBackgroundAsync(slot); // runs beside the next ticks; its outcome is logged and persisted
            }
        }
    }

    private async Task ProbeInBackgroundAsync(KeySlot slot)
    {
        try
        {
            await ProbeAsync(slot);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // the verdict is in memory; only telling the frontends or persisting it failed, and the schedule goes on
            LogProbeFailed(logger, ex, slot.Alias.Index, slot.Alias.Fingerprint);
        }
    }

    /// <summary>Applies a key list, one list at a time (a list that arrives during one waits for it).</summary>
    private Task ReconcileAsync(IReadOnlyList<ConfiguredKey> list) => _reconciling = ReconcileAfterAsync(_reconciling, list);

    private async Task ReconcileAfterAsync(Task previous, IReadOnlyList<ConfiguredKey> list)
    {
        try
        {
            await previous;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // that list was not applied (a key grain did not answer): this one, or the next check, applies a list again
            LogReconcileFailed(logger, ex);
        }
        if (ReferenceEquals(list, _appliedList))
        {
            return;
        }
        var listed = new Dictionary<string, KeyAttributes>(StringComparer.Ordinal);
        foreach (var key in list)
        {
            listed.TryAdd(key.Fingerprint, key.Attributes);
        }
        var added = listed.Keys.Where(fingerprint => !_byFingerprint.ContainsKey(fingerprint)).ToArray();
        var addedGrains = added.Select(fingerprint => GrainFactory.GetGrain<IKeyGrain>($"{this.GetPrimaryKeyString()}/{fingerprint}")).ToArray();
        var records = await Task.WhenAll(addedGrains.Select(grain => grain.GetAsync()));

        // from here on, no await until the new list is in force: leases see the old list or the new one
        var now = time.GetUtcNow();
        var first = _appliedList is null;
        var slots = new KeySlot[_slots.Length + added.Length];
        _slots.CopyTo(slots, 0);
        var grains = new IKeyGrain[slots.Length];
        _keyGrains.CopyTo(grains, 0);
        for (var i = 0; i < added.Length; i++)
        {
            var index = _slots.Length + i;
            var slot = new KeySlot(new KeyAlias(index, added[i]), listed[added[i]]);
            Learn(records[i]);
            Restore(slot, records[i], now);
            slots[index] = slot;
            grains[index] = addedGrains[i];
            _byFingerprint[added[i]] = index;
            if (!first)
            {
                LogAdded(logger, index, added[i]);
            }
        }
        var removedNow = new List<KeySlot>();
        foreach (var slot in slots)
        {
            if (listed.TryGetValue(slot.Alias.Fingerprint, out var attributes))
            {
                if (slot.Removed)
                {
                    LogReturned(logger, slot.Alias.Index, slot.Alias.Fingerprint);
                }
                slot.Removed = false;
                slot.Attributes = attributes;
            }
            else if (!slot.Removed)
            {
                slot.Removed = true;
                removedNow.Add(slot);
                LogRemoved(logger, slot.Alias.Index, slot.Alias.Fingerprint);
            }
        }
        _slots = slots;
        _keyGrains = grains;
        _out = slots.Select(slot => slot.IsOut).ToArray();
        _groups = Group(slots);
        _appliedList = list;
        // every rotation starts again in index order: the keys added join the tail, each key keeps its cooldowns
        foreach (var model in _rotations.Keys.ToArray())
        {
            _rotations[model] = new ModelRotation(model, _slots, _out, _options.PaidFirst, now);
        }
        _unknownRotations.Clear();
        // calls already under way finish with the key; frontends holding it ahead drop it now
        await Task.WhenAll(removedNow.Select(slot => Withdraw(slot.Alias, model: null)));
    }

    /// <summary>Numbers the quota groups: keys with one project share a group; every other key has its own.</summary>
    private static int[][] Group(KeySlot[] slots)
    {
        var byProject = new Dictionary<string, int>(StringComparer.Ordinal);
        var members = new List<List<int>>();
        foreach (var slot in slots)
        {
            var project = slot.Removed ? null : slot.Attributes.Project;
            if (project is null || !byProject.TryGetValue(project, out var group))
            {
                group = members.Count;
                members.Add([]);
                if (project is not null)
                {
                    byProject[project] = group;
                }
            }
            slot.Group = group;
            members[group].Add(slot.Alias.Index);
        }
        return members.Select(list => list.ToArray()).ToArray();
    }

    /// <summary>Benches a key for a model and tells every frontend; null when it already cools at least that long.</summary>
    private Task? CoolDown(KeySlot slot, string model, DateTimeOffset until, string reason, DateTimeOffset now)
    {
        if (slot.CoolingUntil(model, now) is { } current && current >= until)
        {
            return null;
        }
        var cooldown = new Cooldown(until, reason);
        slot.Cooldowns[model] = cooldown;
        RotationFor(model, now).ScheduleReturn(slot.Alias.Index, until);
        LogCooling(logger, slot.Alias.Index, slot.Alias.Fingerprint, model, until, reason);
        return Task.WhenAll(Withdraw(slot.Alias, model), KeyGrain(slot.Alias).CoolDownAsync(model, cooldown));
    }

    private async Task MarkInvalidAsync(KeySlot slot, string reason, DateTimeOffset now)
    {
        slot.Invalid = new InvalidMark(reason, now);
        _out[slot.Alias.Index] = true;
        var probe = slot.Probe ??= new ProbeRecord();
        probe.FailedInARow = 0;
        probe.NextAt = now + _options.ProbeDelay(0);
        LogInvalid(logger, slot.Alias.Index, slot.Alias.Fingerprint, reason, probe.NextAt.Value);
        var grain = KeyGrain(slot.Alias);
        await Task.WhenAll(Withdraw(slot.Alias, model: null), grain.MarkInvalidAsync(slot.Invalid), grain.SetProbeAsync(probe));
    }

    /// <summary>After KEY_TRANSIENT_LIMIT transient failures in a row: a short cooldown for the model, and a probe now.</summary>
    private async Task BenchAfterTransientsAsync(KeySlot slot, string model, DateTimeOffset now)
    {
        var tasks = new List<Task>();
        if (model != KnownModels.Unknown
            && CoolDown(slot, model, now + KeyPoolOptions.TransientCooldown, $"{_options.KeyTransientLimit} transient failures in a row", now) is { } cooling)
        {
            tasks.Add(cooling);
        }
        var probe = slot.Probe ??= new ProbeRecord();
        if (probe.NextAt is null || probe.NextAt > now)
        {
            probe.NextAt = now;
            tasks.Add(KeyGrain(slot.Alias).SetProbeAsync(probe));
        }
        await Task.WhenAll(tasks);
    }

    /// <summary>Probes one key through this silo's prober, and acts on the answer.</summary>
    private async Task<KeyProbeResult?> ProbeAsync(KeySlot slot)
    {
        if (slot.Probing)
        {
            return null; // one probe of a key at a time
        }
        slot.Probing = true;
        _probesInFlight++;
        KeyProbeResult result;
        try
        {
            using var timeout = new CancellationTokenSource(ProbeTimeout);
            result = await prober.ProbeAsync(slot.Alias.Fingerprint, timeout.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogProbeFailed(logger, ex, slot.Alias.Index, slot.Alias.Fingerprint);
            result = KeyProbeResult.Inconclusive;
        }
        finally
        {
            slot.Probing = false;
            _probesInFlight--;
        }

        var now = time.GetUtcNow();
        var probe = slot.Probe ??= new ProbeRecord();
        var tasks = new List<Task>();
        probe.LastAt = now;
        probe.LastResult = result;
        switch (result)
        {
            case KeyProbeResult.Passed:
                probe.Passed++;
                probe.FailedInARow = 0;
                probe.NextAt = null;
                if (slot.Invalid is not null)
                {
                    slot.Invalid = null;
                    Rejoin(slot, now);
                    tasks.Add(KeyGrain(slot.Alias).ClearInvalidAsync());
                }
                break;

            case KeyProbeResult.NotHeld:
                probe.NextAt = now + NotHeldRetry; // not the key's fault: no back-off
                break;

            default:
                probe.Failed++;
                probe.FailedInARow++;
                probe.NextAt = now + _options.ProbeDelay(probe.FailedInARow);
                if (result == KeyProbeResult.Invalid && slot.Invalid is null)
                {
                    slot.Invalid = new InvalidMark("probe: key refused", now);
                    _out[slot.Alias.Index] = true;
                    tasks.Add(Withdraw(slot.Alias, model: null));
                    tasks.Add(KeyGrain(slot.Alias).MarkInvalidAsync(slot.Invalid));
                }
                break;
        }
        LogProbed(logger, slot.Alias.Index, slot.Alias.Fingerprint, result, slot.Invalid is null ? "usable" : "invalid", probe.NextAt);
        tasks.Add(KeyGrain(slot.Alias).SetProbeAsync(probe));
        await Task.WhenAll(tasks);
        return result;
    }

    /// <summary>After a key's marks or cooldowns cleared: back in every rotation it may serve.</summary>
    private void Rejoin(KeySlot slot, DateTimeOffset now)
    {
        _out[slot.Alias.Index] = slot.IsOut;
        foreach (var rotation in _rotations.Values.Concat(_unknownRotations.Values))
        {
            rotation.Rejoin(slot.Alias.Index, now);
        }
    }

    /// <summary>A key by index or fingerprint.</summary>
    private KeySlot? Find(string target)
    {
        var trimmed = target.Trim().TrimStart('#');
        if (int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && (uint)index < (uint)_slots.Length)
        {
            return _slots[index];
        }
        return _byFingerprint.TryGetValue(trimmed.ToLowerInvariant(), out index) ? _slots[index] : null;
    }

    /// <summary>Tells the frontends holding leased keys to drop this one (for the model, or everywhere), and waits for them.</summary>
    private Task Withdraw(KeyAlias key, string? model) =>
        _subscribers.NotifyAsync(new KeyWithdrawal(key, model, ++_version), ex => LogNotifyFailed(logger, ex));

    private ModelRotation RotationFor(string model, DateTimeOffset now)
    {
        if (_rotations.TryGetValue(model, out var rotation) || _unknownRotations.TryGetValue(model, out rotation))
        {
            return rotation;
        }
        rotation = new ModelRotation(model, _slots, _out, _options.PaidFirst, now);
        if (_known.Contains(model))
        {
            _rotations[model] = rotation;
        }
        else
        {
            if (_unknownRotations.Count >= KnownModels.MaxUnknownTracked)
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

    /// <summary>The slot of a reported key: by index, or by fingerprint when the report predates this activation's numbering.</summary>
    private KeySlot? SlotFor(KeyAlias key) =>
        (uint)key.Index < (uint)_slots.Length && _slots[key.Index].Alias.Fingerprint == key.Fingerprint
            ? _slots[key.Index]
            : _byFingerprint.TryGetValue(key.Fingerprint, out var index) ? _slots[index] : null;

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
        slot.Disabled = record.Disabled;
        slot.Probe = record.Probe?.Clone();
        if (slot.Invalid is not null && slot.Probe?.NextAt is null)
        {
            // marked invalid before keys were probed: schedule its first probe
            (slot.Probe ??= new ProbeRecord()).NextAt = now + _options.ProbeDelay(0);
        }
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
            LogFlushFailed(logger, ex, slot.Alias.Index);
        }
    }

    [LoggerMessage(EventId = 1020, Level = LogLevel.Debug, Message = "Ticket {Ticket} joined the line of {Model} in place {Place}; a key is expected at {ExpectedAt:O}")]
    private static partial void LogJoined(ILogger logger, string model, long ticket, int place, DateTimeOffset expectedAt);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Debug, Message = "Ticket {Ticket} at the head of the line of {Model} got key #{KeyIndex}; {Left} still wait")]
    private static partial void LogServedFromLine(ILogger logger, string model, long ticket, int keyIndex, int left);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Key pool active with {KeyCount} keys ({InvalidCount} invalid)")]
    private static partial void LogActivated(ILogger logger, int keyCount, int invalidCount);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}) cooling for {Model} until {Until:O}: {Reason}")]
    private static partial void LogCooling(ILogger logger, int index, string fingerprint, string model, DateTimeOffset until, string reason);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}) marked invalid: {Reason}; first probe at {NextProbe:O}")]
    private static partial void LogInvalid(ILogger logger, int index, string fingerprint, string reason, DateTimeOffset nextProbe);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}) added to the pool")]
    private static partial void LogAdded(ILogger logger, int index, string fingerprint);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}) removed from the pool: no new request gets it; its history stays")]
    private static partial void LogRemoved(ILogger logger, int index, string fingerprint);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}) is back in the key list")]
    private static partial void LogReturned(ILogger logger, int index, string fingerprint);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}) probed: {Result}; now {State}; next probe {NextProbe:O}")]
    private static partial void LogProbed(ILogger logger, int index, string fingerprint, KeyProbeResult result, string state, DateTimeOffset? nextProbe);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}): the probe failed to run")]
    private static partial void LogProbeFailed(ILogger logger, Exception exception, int index, string fingerprint);

    [LoggerMessage(EventId = 1019, Level = LogLevel.Warning, Message = "A key list change was not applied; the next check tries again")]
    private static partial void LogReconcileFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1015, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}) disabled by {By}")]
    private static partial void LogDisabled(ILogger logger, int index, string fingerprint, string by);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}) enabled by {By} (was invalid: {WasInvalid})")]
    private static partial void LogEnabled(ILogger logger, int index, string fingerprint, string by, bool wasInvalid);

    [LoggerMessage(EventId = 1017, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}): cooldowns cleared by {By}")]
    private static partial void LogCooldownsCleared(ILogger logger, int index, string fingerprint, string by);

    [LoggerMessage(EventId = 1018, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}): counters reset by {By}")]
    private static partial void LogCountersReset(ILogger logger, int index, string fingerprint, string by);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "A frontend could not be told of a withdrawn key; its subscription is dropped until its next lease")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "A frontend did not confirm it heard the pool is moving; it reaches the next activation at its next renewal")]
    private static partial void LogMoveNotHeard(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Counters of key #{Index} not flushed, kept for the next flush")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, int index);
}
