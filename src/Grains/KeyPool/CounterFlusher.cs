using Microsoft.Extensions.Logging;

namespace GeminiParty;

/// <summary>
/// Writes the keys' pending counters to their key grains (every COUNTER_FLUSH_INTERVAL, and when the pool stops). A
/// flush whose write fails keeps its counters for the next one.
/// </summary>
internal sealed partial class CounterFlusher(PoolKeys keys, ILogger logger)
{
    private Task _flushing = Task.CompletedTask;

    /// <summary>
    /// Writes the pending counters after the flush before it has finished. A caller that finds a flush under way so
    /// waits until those counters are written too: a silo stopping at the same time as the one hosting the pool holds
    /// its key grains until then.
    /// </summary>
    public Task FlushAsync() => _flushing = FlushAfterAsync(_flushing);

    private async Task FlushAfterAsync(Task previous)
    {
        await previous; // never faults: each write catches its own failure
        var flushes = new List<Task>();
        foreach (var slot in keys.Slots)
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
            await keys.Grain(slot.Alias).AddCountersAsync(batch);
        }
        catch (Exception ex)
        {
            slot.RestorePending(batch);
            LogFlushFailed(logger, ex, slot.Alias.Index);
        }
    }

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Counters of key #{Index} not flushed, kept for the next flush")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, int index);
}
