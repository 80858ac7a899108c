namespace GeminiParty;

/// <summary>The window of the recent counts shown per key: they start again every ROTATION_RESET_INTERVAL.</summary>
internal sealed class RecentCountsWindow(TimeSpan interval)
{
    public DateTimeOffset Start { get; private set; }

    public TimeSpan Interval => interval;

    public void StartAt(DateTimeOffset now) => Start = now;

    /// <summary>Clears the recent counts of every key when the window ran out, keeping windows aligned to the first.</summary>
    public void Roll(DateTimeOffset now, KeySlot[] slots)
    {
        if (now - Start < interval)
        {
            return;
        }
        var elapsedWindows = (now - Start).Ticks / interval.Ticks;
        Start += TimeSpan.FromTicks(interval.Ticks * elapsedWindows);
        foreach (var slot in slots)
        {
            slot.Recent.Clear();
        }
    }
}
