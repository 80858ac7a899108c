using Microsoft.Extensions.Logging;

namespace GeminiParty;

/// <summary>
/// Applies what frontends report of their attempts: counts each one on its key, and benches a key whose answers say it
/// cannot serve (a cooldown for the model, shared by its quota group; an invalid mark; a short cooldown after
/// KEY_TRANSIENT_LIMIT transient failures in a row). Every bench is withdrawn from the frontends and persisted at once.
/// </summary>
internal sealed partial class AttemptRecorder(
    PoolKeys keys,
    PoolRotations rotations,
    KeyWithdrawals withdrawals,
    RecentCountsWindow window,
    KeyPoolOptions options,
    TimeProvider time,
    ILogger logger)
{
    private readonly AppliedBatches _applied = new();

    /// <summary>Counts a frontend's batch of reports (once, however often it is sent) and its affinity waits.</summary>
    public Task RecordAsync(ReportBatch batch)
    {
        var now = time.GetUtcNow();
        if (!_applied.TryMarkApplied(batch, now))
        {
            return Task.CompletedTask; // sent again after a lost acknowledgement: already counted
        }
        window.Roll(now, keys.Slots);
        List<Task>? benched = null;
        foreach (var report in batch.Reports)
        {
            if (keys.SlotFor(report.Key) is not { } slot)
            {
                continue;
            }
            var model = rotations.Learn(report);
            slot.Count(model, report.Outcome, report.Tokens, now);
            if (report.Outcome == UpstreamOutcome.Success)
            {
                slot.TransientInARow = 0;
            }
            else if (report.Outcome == UpstreamOutcome.Transient && !report.NoKeyServed && ++slot.TransientInARow >= options.KeyTransientLimit)
            {
                slot.TransientInARow = 0;
                (benched ??= []).Add(BenchAfterTransientsAsync(slot, model, now));
            }
        }
        foreach (var wait in batch.Waits ?? [])
        {
            // the owner cooled for the model, so the pool knows its name; anything else is bucketed as reports are
            keys.ByFingerprint(wait.Fingerprint)?.CountAffinityWait(rotations.Bucket(wait.Model));
        }
        return benched is null ? Task.CompletedTask : Task.WhenAll(benched);
    }

    /// <summary>Counts one attempt whose answer benches its key, and benches it.</summary>
    public async Task PenalizeAsync(AttemptReport report)
    {
        if (keys.SlotFor(report.Key) is not { } slot)
        {
            return;
        }
        var now = time.GetUtcNow();
        window.Roll(now, keys.Slots);
        var model = rotations.Learn(report);
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
                    : now + (report.RetryDelay is { } delay && delay > TimeSpan.Zero ? delay : options.BlacklistTimeout);
                // Google meters quota per project and model: every key of the project is out of that model's quota
                var cooling = new List<Task>();
                foreach (var member in keys.Groups[slot.Group])
                {
                    var memberReason = member == slot.Alias.Index ? reason : $"{reason} (same project as key #{slot.Alias.Index})";
                    if (CoolDown(keys.Slots[member], model, until, memberReason, now) is { } persisted)
                    {
                        cooling.Add(persisted);
                    }
                }
                await Task.WhenAll(cooling);
                break;
        }
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
        rotations.For(model, now).ScheduleReturn(slot.Alias.Index, until);
        LogCooling(logger, slot.Alias.Index, slot.Alias.Fingerprint, model, until, reason);
        return Task.WhenAll(withdrawals.Withdraw(slot.Alias, model), keys.Grain(slot.Alias).CoolDownAsync(model, cooldown));
    }

    private async Task MarkInvalidAsync(KeySlot slot, string reason, DateTimeOffset now)
    {
        slot.Invalid = new InvalidMark(reason, now);
        keys.UpdateOut(slot);
        var probe = slot.Probe ??= new ProbeRecord();
        probe.FailedInARow = 0;
        probe.NextAt = now + options.ProbeDelay(0);
        LogInvalid(logger, slot.Alias.Index, slot.Alias.Fingerprint, reason, probe.NextAt.Value);
        var grain = keys.Grain(slot.Alias);
        await Task.WhenAll(withdrawals.Withdraw(slot.Alias, model: null), grain.MarkInvalidAsync(slot.Invalid), grain.SetProbeAsync(probe));
    }

    /// <summary>After KEY_TRANSIENT_LIMIT transient failures in a row: a short cooldown for the model, and a probe now.</summary>
    private async Task BenchAfterTransientsAsync(KeySlot slot, string model, DateTimeOffset now)
    {
        var tasks = new List<Task>();
        if (model != KnownModels.Unknown
            && CoolDown(slot, model, now + KeyPoolOptions.TransientCooldown, $"{options.KeyTransientLimit} transient failures in a row", now) is { } cooling)
        {
            tasks.Add(cooling);
        }
        var probe = slot.Probe ??= new ProbeRecord();
        if (probe.NextAt is null || probe.NextAt > now)
        {
            probe.NextAt = now;
            tasks.Add(keys.Grain(slot.Alias).SetProbeAsync(probe));
        }
        await Task.WhenAll(tasks);
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}) cooling for {Model} until {Until:O}: {Reason}")]
    private static partial void LogCooling(ILogger logger, int index, string fingerprint, string model, DateTimeOffset until, string reason);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}) marked invalid: {Reason}; first probe at {NextProbe:O}")]
    private static partial void LogInvalid(ILogger logger, int index, string fingerprint, string reason, DateTimeOffset nextProbe);
}
