using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Observability;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Requests waiting for capacity (MAX_WAIT): when the pool answers "no key usable for this model until T" (or "others
/// wait for it already") and T falls within the request's wait, the request joins the model's line in the pool, sleeps
/// here until the time the pool expects a key for it, holding no upstream connection and no key, then claims its key.
/// The pool hands keys to the head of the line only, so requests are served in the order they joined, across every
/// frontend. Past MAX_WAITING requests in a model's line, or when no key returns in time, the request gets today's
/// immediate 429.
/// </summary>
/// <remarks>
/// Bound: a request joins the line with its second pool call (the lease that found no key, then the join), so two
/// requests on different frontends are served in arrival order give or take that round trip; on one frontend,
/// requests that found no key in the same lease call join in the order their join calls reach the pool.
/// </remarks>
public sealed partial class CapacityWaits(
    KeyPoolReference pool,
    IOptions<FrontendOptions> options,
    TimeProvider time,
    FrontendMetrics metrics,
    ILogger<CapacityWaits> logger)
{
    /// <summary>The header a client shortens its wait with (ms); it never lengthens MAX_WAIT.</summary>
    public const string MaxWaitHeader = "x-gemini-party-max-wait";

    /// <summary>The shortest sleep, so a return time the pool reports as just past cannot spin claim calls.</summary>
    private static readonly TimeSpan MinimumSleep = TimeSpan.FromMilliseconds(10);

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
        return TryReadAsked(request, out var asked) && asked is { } ms
            ? TimeSpan.FromMilliseconds(Math.Min(ms, (long)_maxWait.TotalMilliseconds))
            : _maxWait;
    }

    /// <summary>
    /// The wait a request asks for in <see cref="MaxWaitHeader"/> (ms), or null when it asks none; false when the header
    /// is not one whole number of milliseconds.
    /// </summary>
    public static bool TryReadAsked(HttpRequest request, out long? asked)
    {
        var values = request.Headers[MaxWaitHeader];
        asked = null;
        if (values.Count == 0)
        {
            return true;
        }
        if (values.Count == 1 && long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            asked = ms;
            return true;
        }
        return false;
    }

    /// <summary>
    /// Waits in <paramref name="model"/>'s line for a key if one may come back (<paramref name="retryAt"/>) before
    /// <paramref name="deadline"/>. Returns the key claimed, or no key with the time the first key returns, for the 429.
    /// </summary>
    /// <exception cref="OperationCanceledException">The client left; its place in the line is given up at once.</exception>
    /// <exception cref="OrleansException">The pool could not be reached.</exception>
    public async ValueTask<LeasedKey> WaitAsync(string model, DateTimeOffset retryAt, DateTimeOffset deadline, ServerTiming? timing,
        CancellationToken aborted)
    {
        if (retryAt > deadline || _maxWait <= TimeSpan.Zero)
        {
            return new LeasedKey(null, retryAt); // no wait at all: no pool call either
        }
        var ticket = await pool.Reference.JoinLineAsync(model, deadline, _maxWaiting);
        if (!ticket.Admitted)
        {
            if (ticket.LineFull)
            {
                metrics.WaitRefused(model);
            }
            return new LeasedKey(null, ticket.ExpectedAt ?? retryAt, ticket.ExpectedAt is null);
        }
        var count = _waiting.GetOrAdd(model, static _ => new StrongBox<int>());
        Interlocked.Increment(ref count.Value);
        var started = time.GetTimestamp();
        metrics.WaitStarted(model);
        var claimAt = ticket.ExpectedAt ?? time.GetUtcNow();
        try
        {
            while (true)
            {
                var sleep = claimAt - time.GetUtcNow();
                if (sleep > TimeSpan.Zero)
                {
                    await Task.Delay(sleep < MinimumSleep ? MinimumSleep : sleep, time, aborted);
                }
                aborted.ThrowIfCancellationRequested();
                var lease = await pool.Reference.ClaimAsync(model, ticket.Id, deadline).AsTask().WaitAsync(aborted);
                if (lease.Keys.Length > 0)
                {
                    return new LeasedKey(lease.Keys[0]);
                }
                if (lease.RetryAt is not { } again || again > deadline)
                {
                    return new LeasedKey(null, lease.RetryAt, lease.AllInvalid); // out of the line: no key back within the wait
                }
                claimAt = again; // the keys cooled again before this request's turn: it keeps its place
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            _ = LeaveAsync(model, ticket.Id);
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref count.Value);
            var waited = time.GetElapsedTime(started);
            metrics.WaitEnded(model, waited);
            timing?.AddWait(waited, ticket.Place);
        }
    }

    /// <summary>Requests of <paramref name="model"/> waiting on this frontend now.</summary>
    public int Waiting(string model) => _waiting.TryGetValue(model, out var count) ? Volatile.Read(ref count.Value) : 0;

    /// <summary>Gives a ticket's place up, off the request path (the client is gone); the pool drops it later otherwise.</summary>
    private async Task LeaveAsync(string model, long ticket)
    {
        try
        {
            await pool.Reference.LeaveLineAsync(model, ticket);
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            LogLeaveFailed(logger, ex, model);
        }
    }

    [LoggerMessage(EventId = 3600, Level = LogLevel.Warning, Message = "A request that left the line for {Model} could not tell the pool; its place lapses within seconds")]
    private static partial void LogLeaveFailed(ILogger logger, Exception exception, string model);
}
