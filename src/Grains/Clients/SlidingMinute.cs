namespace GeminiParty;

/// <summary>
/// The times of the requests admitted in the last minute, oldest first: a request is admitted while fewer than the
/// limit are in the window, so no 60 seconds ever hold more than the limit (a fixed minute could hold twice as many
/// around its boundary).
/// </summary>
internal sealed class SlidingMinute
{
    public static readonly TimeSpan Length = TimeSpan.FromMinutes(1);

    private readonly Queue<DateTimeOffset> _admitted = new();

    public int Count => _admitted.Count;

    public void Trim(DateTimeOffset now)
    {
        while (_admitted.TryPeek(out var oldest) && oldest + Length <= now)
        {
            _admitted.Dequeue();
        }
    }

    public void Add(DateTimeOffset now) => _admitted.Enqueue(now);

    /// <summary>When the oldest request leaves the window (zero when the window is empty).</summary>
    public TimeSpan NextFreeIn(DateTimeOffset now) =>
        _admitted.TryPeek(out var oldest) ? oldest + Length - now : TimeSpan.Zero;
}
