using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GeminiParty;

/// <summary>
/// Remembers which key made one resource. Read on every request that names the resource (from memory once active);
/// written only when a resource is made, moves to a later expiry, or is deleted. An expired record is cleared from
/// storage when it is next read, and at its expiry while the grain is active.
/// </summary>
// one activation per resource named lately: interactions make one per turn, so an idle record leaves memory after two
// minutes (Orleans' default is 15) and is read again from storage when its resource is next named
[CollectionAgeLimit(Minutes = 2)]
public partial class ResourceGrain(
    [PersistentState("resource", StorageNames.Resources)] IPersistentState<ResourceRecord> state,
    [FromKeyedServices(ServiceKeys.PoolClock)] TimeProvider time,
    ILogger<ResourceGrain> logger) : Grain, IResourceGrain
{
    /// <summary>A later expiry is written only when it moves the record by more than this: polls do not write each time.</summary>
    private static readonly TimeSpan RefreshSlack = TimeSpan.FromHours(1);

    private IGrainTimer? _expiry;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await ClearIfExpiredAsync();
        ScheduleExpiry();
    }

    public async Task BindAsync(ResourceBinding binding)
    {
        await ClearIfExpiredAsync();
        var current = state.State.Binding;
        if (current is not null && current.Fingerprint != binding.Fingerprint)
        {
            LogOwnerKept(logger, this.GetPrimaryKeyString(), current.Fingerprint, binding.Fingerprint);
            return;
        }
        if (current is not null && current.ExpiresAt >= binding.ExpiresAt - SlackFor(this.GetPrimaryKeyString()))
        {
            return; // nothing new (a poll of a running batch): no write
        }
        state.State.Binding = binding;
        await state.WriteStateAsync();
        ScheduleExpiry();
        await TellKeyAsync(binding.Fingerprint, index => index.AddAsync(this.GetPrimaryKeyString(), binding.ExpiresAt));
    }

    /// <summary>
    /// A cache's expiry is upstream's own <c>expireTime</c>, which only an update moves and which the cache is used up to:
    /// any later one is written, or the record would lapse while the cache lives. The others are a fixed span from each
    /// answer (every poll moves them), so only a move past the slack is worth a write.
    /// </summary>
    private static TimeSpan SlackFor(string name) =>
        ResourceCounts.CollectionOf(name) == "cachedContents" ? TimeSpan.Zero : RefreshSlack;

    public async ValueTask<ResourceBinding?> GetAsync()
    {
        await ClearIfExpiredAsync();
        return state.State.Binding;
    }

    public async Task ForgetAsync()
    {
        var forgotten = state.State.Binding;
        state.State.Binding = null;
        await state.ClearStateAsync();
        DeactivateOnIdle();
        if (forgotten is not null)
        {
            await TellKeyAsync(forgotten.Fingerprint, index => index.RemoveAsync(this.GetPrimaryKeyString()));
        }
    }

    public async Task ClearIfLapsedAsync()
    {
        await ClearIfExpiredAsync(); // done already if this call activated the grain
        if (state.State.Binding is null)
        {
            DeactivateOnIdle();
        }
    }

    private async Task ClearIfExpiredAsync()
    {
        if (state.State.Binding is { } binding && binding.ExpiresAt <= time.GetUtcNow())
        {
            state.State.Binding = null;
            await state.ClearStateAsync();
            await TellKeyAsync(binding.Fingerprint, index => index.RemoveAsync(this.GetPrimaryKeyString()));
        }
    }

    /// <summary>
    /// Keeps the owning key's count in step. Best effort: routing depends on this grain alone, and a count that missed
    /// a removal still drops the resource at its expiry.
    /// </summary>
    private async Task TellKeyAsync(string fingerprint, Func<IKeyResourcesGrain, Task> change)
    {
        if (ResourceCounts.CollectionOf(this.GetPrimaryKeyString()) is null)
        {
            return; // upload sessions are not counted
        }
        try
        {
            await change(GrainFactory.GetGrain<IKeyResourcesGrain>(fingerprint));
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException or InvalidOperationException)
        {
            LogCountNotUpdated(logger, ex, this.GetPrimaryKeyString(), fingerprint);
        }
    }

    /// <summary>While active, the record goes at its expiry (a long-lived cache's record is not kept in memory for it).</summary>
    private void ScheduleExpiry()
    {
        _expiry?.Dispose();
        _expiry = null;
        if (state.State.Binding is not { } binding)
        {
            return;
        }
        var due = binding.ExpiresAt - time.GetUtcNow();
        if (due > TimeSpan.FromHours(1))
        {
            return; // checked again on the next read or activation
        }
        _expiry = this.RegisterGrainTimer(static (grain, _) => grain.ClearIfExpiredAsync(), this,
            new GrainTimerCreationOptions { DueTime = due < TimeSpan.Zero ? TimeSpan.Zero : due, Period = Timeout.InfiniteTimeSpan });
    }

    [LoggerMessage(EventId = 1210, Level = LogLevel.Warning, Message = "The count of key {Owner}'s resources missed a change of {Resource}")]
    private static partial void LogCountNotUpdated(ILogger logger, Exception exception, string resource, string owner);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "{Resource} stays bound to key {Owner}; a later answer named it for key {Other}")]
    private static partial void LogOwnerKept(ILogger logger, string resource, string owner, string other);
}
