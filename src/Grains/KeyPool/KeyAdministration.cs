using Microsoft.Extensions.Logging;

namespace GeminiParty;

/// <summary>An operator's actions on one key (disable, enable, clear its cooldowns, reset its counters, probe it now).</summary>
internal sealed partial class KeyAdministration(
    PoolKeys keys,
    PoolRotations rotations,
    KeyWithdrawals withdrawals,
    KeyProbes probes,
    TimeProvider time,
    ILogger logger)
{
    public async Task<KeyAdminResult> ApplyAsync(string target, KeyAdminAction action, string by)
    {
        if (keys.Find(target) is not { } slot)
        {
            return new KeyAdminResult(null);
        }
        var now = time.GetUtcNow();
        var grain = keys.Grain(slot.Alias);
        switch (action)
        {
            case KeyAdminAction.Disable:
                if (slot.Disabled is null)
                {
                    slot.Disabled = new DisabledMark(by, now);
                    keys.UpdateOut(slot);
                    LogDisabled(logger, slot.Alias.Index, slot.Alias.Fingerprint, by);
                    await Task.WhenAll(withdrawals.Withdraw(slot.Alias, model: null), grain.SetDisabledAsync(slot.Disabled));
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
                rotations.Rejoin(slot, now);
                LogEnabled(logger, slot.Alias.Index, slot.Alias.Fingerprint, by, wasInvalid);
                await Task.WhenAll(grain.SetDisabledAsync(null), grain.ClearInvalidAsync(),
                    slot.Probe is null ? Task.CompletedTask : grain.SetProbeAsync(slot.Probe));
                return new KeyAdminResult(slot.Alias);

            case KeyAdminAction.ClearCooldowns:
                slot.Cooldowns.Clear();
                rotations.Rejoin(slot, now);
                LogCooldownsCleared(logger, slot.Alias.Index, slot.Alias.Fingerprint, by);
                await grain.ClearCooldownsAsync();
                return new KeyAdminResult(slot.Alias);

            case KeyAdminAction.Reset:
                slot.ResetCounters();
                LogCountersReset(logger, slot.Alias.Index, slot.Alias.Fingerprint, by);
                await grain.ResetCountersAsync();
                return new KeyAdminResult(slot.Alias);

            case KeyAdminAction.Probe:
                return new KeyAdminResult(slot.Alias, await probes.ProbeAsync(slot));

            default:
                throw new ArgumentOutOfRangeException(nameof(action), action, "not an admin action");
        }
    }

    [LoggerMessage(EventId = 1015, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}) disabled by {By}")]
    private static partial void LogDisabled(ILogger logger, int index, string fingerprint, string by);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}) enabled by {By} (was invalid: {WasInvalid})")]
    private static partial void LogEnabled(ILogger logger, int index, string fingerprint, string by, bool wasInvalid);

    [LoggerMessage(EventId = 1017, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}): cooldowns cleared by {By}")]
    private static partial void LogCooldownsCleared(ILogger logger, int index, string fingerprint, string by);

    [LoggerMessage(EventId = 1018, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}): counters reset by {By}")]
    private static partial void LogCountersReset(ILogger logger, int index, string fingerprint, string by);
}
