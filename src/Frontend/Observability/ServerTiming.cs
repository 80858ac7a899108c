using System.Diagnostics;
using System.Globalization;

namespace GeminiParty.Frontend.Observability;

/// <summary>
/// The <c>Server-Timing</c> header of one answer (https://www.w3.org/TR/server-timing/): <c>upstream</c> is the time
/// spent waiting for upstream's answer headers over all attempts, <c>gateway</c> the rest of the time until the answer's
/// headers left, so anyone can see what the hop costs; <c>wait</c>, when there was one, the time spent waiting for a key
/// to come back (MAX_WAIT), not counted in <c>gateway</c>, with the request's place in its model's line when it joined
/// (<c>desc="place 3"</c>: two requests waited ahead of it, on any frontend). Upstream's own Server-Timing entries, if any, pass alongside.
/// </summary>
public sealed class ServerTiming(HttpResponse response, long started)
{
    private long _upstreamTicks; // Stopwatch ticks
    private bool _calledUpstream;
    private TimeSpan _waited;
    private bool _hasWaited;
    private int _place;

    /// <summary>Adds the wait for one upstream attempt, from sending until its answer headers (or its failure).</summary>
    public void AddUpstream(long sentAt, long answeredAt)
    {
        _calledUpstream = true;
        _upstreamTicks += Math.Max(0, answeredAt - sentAt);
    }

    /// <summary>Adds a wait for capacity, in <paramref name="place"/> of the line when it began.</summary>
    public void AddWait(TimeSpan waited, int place = 0)
    {
        _hasWaited = true;
        _waited += waited;
        _place = place > 0 ? place : _place;
    }

    /// <summary>Appends the header just before the answer's headers leave.</summary>
    public Task WriteAsync()
    {
        var wait = _waited.TotalMilliseconds;
        var total = Stopwatch.GetElapsedTime(started).TotalMilliseconds - wait;
        var upstream = TimeSpan.FromTicks(_upstreamTicks * TimeSpan.TicksPerSecond / Stopwatch.Frequency).TotalMilliseconds;
        var value = _calledUpstream
            ? string.Create(CultureInfo.InvariantCulture, $"gateway;dur={Math.Max(0, total - upstream):0.0}, upstream;dur={upstream:0.0}")
            : string.Create(CultureInfo.InvariantCulture, $"gateway;dur={total:0.0}");
        if (_hasWaited)
        {
            value += _place > 0
                ? string.Create(CultureInfo.InvariantCulture, $", wait;dur={wait:0.0};desc=\"place {_place}\"")
                : string.Create(CultureInfo.InvariantCulture, $", wait;dur={wait:0.0}");
        }
        response.Headers.Append("Server-Timing", value);
        return Task.CompletedTask;
    }
}
