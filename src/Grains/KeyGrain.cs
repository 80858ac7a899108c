using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GeminiParty;

/// <summary>
/// Remembers one upstream key. Cooldowns and the invalid mark are written before the call returns; counters arrive in
/// batches from the pool. When storage is unreachable the grain keeps serving from memory and retries the write.
/// </summary>
public sealed partial class KeyGrain(
    [PersistentState("key", StorageNames.KeyPool)] IPersistentState<KeyRecord> state,
    [FromKeyedServices(ServiceKeys.PoolClock)] TimeProvider time,
    ILogger<KeyGrain> logger) : Grain, IKeyGrain
{
    private static readonly TimeSpan RetryWriteEvery = TimeSpan.FromSeconds(1);
    private IGrainTimer? _retryTimer;

    public Task<KeyRecord> GetAsync() => Task.FromResult(state.State);

    public Task CoolDownAsync(string model, Cooldown cooldown)
    {
        var cooldowns = state.State.Cooldowns;
        if (cooldowns.TryGetValue(model, out var current) && current.Until >= cooldown.Until)
        {
            return Task.CompletedTask;
        }
        cooldowns[model] = cooldown;
        PruneExpiredCooldowns();
        return PersistAsync();
    }

    public Task MarkInvalidAsync(InvalidMark mark)
    {
        if (state.State.Invalid is not null)
        {
            return Task.CompletedTask;
        }
        state.State.Invalid = mark;
        return PersistAsync();
    }

    public Task AddCountersAsync(Dictionary<string, ModelCounters> deltas)
    {
        foreach (var (model, delta) in deltas)
        {
            if (!state.State.Models.TryGetValue(model, out var counters))
            {
                state.State.Models[model] = counters = new ModelCounters();
            }
            counters.Add(delta);
        }
        return PersistAsync();
    }

    public Task ClearInvalidAsync()
    {
        if (state.State.Invalid is null)
        {
            return Task.CompletedTask;
        }
        state.State.Invalid = null;
        return PersistAsync();
    }

    public Task SetDisabledAsync(DisabledMark? mark)
    {
        if (state.State.Disabled == mark)
        {
            return Task.CompletedTask;
        }
        state.State.Disabled = mark;
        return PersistAsync();
    }

    public Task ClearCooldownsAsync()
    {
        if (state.State.Cooldowns.Count == 0)
        {
            return Task.CompletedTask;
        }
        state.State.Cooldowns.Clear();
        return PersistAsync();
    }

    public Task ResetCountersAsync()
    {
        state.State.Models.Clear();
        return PersistAsync();
    }

    public Task SetProbeAsync(ProbeRecord probe)
    {
        state.State.Probe = probe.Clone();
        return PersistAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_retryTimer is not null)
        {
            await PersistAsync();
        }
    }

    private void PruneExpiredCooldowns()
    {
        var now = time.GetUtcNow();
        foreach (var (model, cooldown) in state.State.Cooldowns)
        {
            if (cooldown.Until <= now)
            {
                state.State.Cooldowns.Remove(model);
            }
        }
    }

    private async Task PersistAsync()
    {
        try
        {
            await state.WriteStateAsync();
            _retryTimer?.Dispose();
            _retryTimer = null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Serving from memory beats failing requests: the pool already acts on the new state.
            LogWriteFailed(logger, ex, this.GetPrimaryKeyString());
            _retryTimer ??= this.RegisterGrainTimer(
                static (grain, _) => grain.PersistAsync(), this,
                new GrainTimerCreationOptions { DueTime = RetryWriteEvery, Period = RetryWriteEvery, Interleave = false });
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning,
        Message = "Key {Fingerprint}: state not persisted; kept in memory, retrying every second")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string fingerprint);
}
