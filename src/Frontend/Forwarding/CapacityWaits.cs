using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Observability;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Requests waiting for capacity (MAX_WAIT): when the pool answers "no key usable for this model until T" and T falls
/// within the request's wait, the request sleeps until T, holding no upstream connection and no key, then leases again.
/// At most MAX_WAITING requests of a model wait on this frontend; past that, and when T is too late, the request gets
/// today's immediate 429.
/// </summary>
/// <remarks>
/// Ordering: the wait is kept on the frontend, not in the pool. Every request waiting for the same T wakes at T and
/// leases again; the keys that came back go to whichever lease calls reach the pool first, and the others sleep until
/// the next T. So arrival order is kept only to the granularity of the cooldowns' ends: a request that arrived later
/// may be served in the same wake-up as an earlier one (across frontends too), never one cooldown end before it.
/// </remarks>
public sealed class CapacityWaits(IOptions<FrontendOptions> options, TimeProvider time, FrontendMetrics metrics)
{
    /// <summary>The header a client shortens its wait with (ms); it never lengthens MAX_WAIT.</summary>
    public const string MaxWaitHeader = "x-gemini-party-max-wait";

    /// <summary>The shortest sleep, so a cooldown end the pool reports as just past cannot spin lease calls.</summary>
    private static readonly TimeSpan MinimumSleep = TimeSpan.FromMilliseconds(20);

    private readonly TimeSpan _maxWait = TimeSpan.FromMilliseconds(options.Value.MaxWaitMs);
    private readonly int _maxWaiting = options.Value.MaxWaiting;
    private readonly ConcurrentDictionary<string, StrongBox<int>> _waiting = new(StringComparer.Ordinal);

    /// <summary>The longest this request may wait in all: MAX_WAIT, or less if the client asked; zero for no wait.</summary>
    public TimeSpan WaitFor(HttpRequest request)
    {
        if (_maxWait <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }
        var asked = request.Headers[MaxWaitHeader];
        return asked.Count == 1 && long.TryParse(asked[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? TimeSpan.FromMilliseconds(Math.Min(ms, (long)_maxWait.TotalMilliseconds))
            : _maxWait;
    }

    /// <summary>
    /// Sleeps until <paramref name="retryAt"/> if it falls before <paramref name="deadline"/> and the model's line has
    /// room; returns false (at once) otherwise. Throws <see cref="OperationCanceledException"/> when the client leaves.
    /// </summary>
    public async ValueTask<bool> WaitAsync(string model, DateTimeOffset retryAt, DateTimeOffset deadline, ServerTiming? timing,
        CancellationToken aborted)
    {
        var now = time.GetUtcNow();
        if (retryAt > deadline || _maxWait <= TimeSpan.Zero)
        {
            return false;
        }
        var count = _waiting.GetOrAdd(model, static _ => new StrongBox<int>());
        if (Interlocked.Increment(ref count.Value) > _maxWaiting)
        {
            Interlocked.Decrement(ref count.Value);
            metrics.WaitRefused(model);
            return false;
        }
        var started = time.GetTimestamp();
        metrics.WaitStarted(model);
        try
        {
            var sleep = retryAt - now;
            await Task.Delay(sleep < MinimumSleep ? MinimumSleep : sleep, time, aborted);
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref count.Value);
            var waited = time.GetElapsedTime(started);
            metrics.WaitEnded(model, waited);
            timing?.AddWait(waited);
        }
    }

    /// <summary>Requests of <paramref name="model"/> waiting on this frontend now.</summary>
    public int Waiting(string model) => _waiting.TryGetValue(model, out var count) ? Volatile.Read(ref count.Value) : 0;
}
