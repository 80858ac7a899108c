using Microsoft.Extensions.Logging;

namespace GeminiParty;

/// <summary>
/// Runs the keys' health probes. The pool is the one owner of each key's schedule (one activation in the cluster; the
/// schedule is persisted with the key, so a pool that moves does not probe again early). A due probe asks the
/// <see cref="IKeyProber"/> of the silo the pool runs on, which holds the secrets; the verdict marks or clears the key.
/// </summary>
internal sealed partial class KeyProbes(
    PoolKeys keys,
    PoolRotations rotations,
    KeyWithdrawals withdrawals,
    IKeyProber prober,
    KeyPoolOptions options,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>Probes running at once at most, so a list of many bad keys does not burst upstream.</summary>
    private const int MaxProbesInFlight = 4;

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How soon a probe is tried again when this silo does not hold the key yet (its key file is behind).</summary>
    private static readonly TimeSpan NotHeldRetry = TimeSpan.FromSeconds(15);

    private int _inFlight;

    /// <summary>Starts the probes that are due, up to <see cref="MaxProbesInFlight"/> at once, without waiting for them.</summary>
    public void StartDue()
    {
        var now = time.GetUtcNow();
        foreach (var slot in keys.Slots)
        {
            if (_inFlight >= MaxProbesInFlight)
            {
                break;
            }
            if (!slot.Removed && !slot.Probing && slot.Probe?.NextAt is { } due && due <= now)
            {
                _ = ProbeInBackgroundAsync(slot); // runs beside the next ticks; its outcome is logged and persisted
            }
        }
    }

    /// <summary>Probes one key and acts on the answer; null when a probe of it is already running.</summary>
    public async Task<KeyProbeResult?> ProbeAsync(KeySlot slot)
    {
        if (slot.Probing)
        {
            return null; // one probe of a key at a time
        }
        slot.Probing = true;
        _inFlight++;
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
            _inFlight--;
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
                    rotations.Rejoin(slot, now);
                    tasks.Add(keys.Grain(slot.Alias).ClearInvalidAsync());
                }
                break;

            case KeyProbeResult.NotHeld:
                probe.NextAt = now + NotHeldRetry; // not the key's fault: no back-off
                break;

            default:
                probe.Failed++;
                probe.FailedInARow++;
                probe.NextAt = now + options.ProbeDelay(probe.FailedInARow);
                if (result == KeyProbeResult.Invalid && slot.Invalid is null)
                {
                    slot.Invalid = new InvalidMark("probe: key refused", now);
                    keys.UpdateOut(slot);
                    tasks.Add(withdrawals.Withdraw(slot.Alias, model: null));
                    tasks.Add(keys.Grain(slot.Alias).MarkInvalidAsync(slot.Invalid));
                }
                break;
        }
        LogProbed(logger, slot.Alias.Index, slot.Alias.Fingerprint, result, slot.Invalid is null ? "usable" : "invalid", probe.NextAt);
        tasks.Add(keys.Grain(slot.Alias).SetProbeAsync(probe));
        await Task.WhenAll(tasks);
        return result;
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

    [LoggerMessage(EventId = 1013, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}) probed: {Result}; now {State}; next probe {NextProbe:O}")]
    private static partial void LogProbed(ILogger logger, int index, string fingerprint, KeyProbeResult result, string state, DateTimeOffset? nextProbe);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}): the probe failed to run")]
    private static partial void LogProbeFailed(ILogger logger, Exception exception, int index, string fingerprint);
}
