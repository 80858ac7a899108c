using System.Diagnostics;
using System.Globalization;

namespace GeminiParty.Frontend.Observability;

/// <summary>
/// The <c>Server-Timing</c> header of one answer (https://www.w3.org/TR/server-timing/): <c>upstream</c> is the time
/// spent waiting for upstream's answer headers over all attempts, <c>gateway</c> the rest of the time until the answer's
/// headers left, so anyone can see what the hop costs; <c>wait</c>, when there was one, the time spent waiting for a key
/// to come back (MAX_WAIT), not counted in <c>gateway</c>. Upstream's own Server-Timing entries, if any, pass alongside.
/// </summary>
public sealed class ServerTiming(HttpResponse response, long started)
{
    private long _upstreamTicks; // Stopwatch ticks
    private bool _calledUpstream;
    private TimeSpan _waited;
    private bool _hasWaited;

    /// <summary>Adds the wait for one upstream attempt, from sending until its answer headers (or its failure).</summary>
    public void AddUpstream(long sentAt, long answeredAt)
    {
        _calledUpstream = true;
        _upstreamTicks += Math.Max(0, answeredAt - sentAt);
    }

    /// <summary>Adds a wait for capacity.</summary>
    public void AddWait(TimeSpan waited)
    {
        _hasWaited = true;
        _waited += waited;
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
            value += string.Create(CultureInfo.InvariantCulture, $", wait;dur={wait:0.0}");
        }
        response.Headers.Append("Server-Timing", value);
        return Task.CompletedTask;
    }
}
