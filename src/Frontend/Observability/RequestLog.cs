using System.Collections.Concurrent;
using GeminiParty.Frontend.Clients;

namespace GeminiParty.Frontend.Observability;

/// <summary>
/// One line per forwarded request, in a category of its own (<see cref="Category"/>) so operators can turn it down
/// without losing the gateway's other logs: LOG_REQUESTS=false, or <c>Logging__LogLevel__GeminiParty.Requests=Warning</c>.
/// It names the client (its name, never its token) and the key by index, and never holds a path or query (a client may put its token in <c>?key=</c>).
/// </summary>
/// <remarks>
/// A request only queues its line; the lines are formatted and handed to the logging providers together every
/// <see cref="WriteInterval"/>, so the console logger's writer thread wakes once per batch instead of once per
/// request (what that saves: docs/benchmarks.md). A line so appears (and is
/// timestamped) up to that interval after its request ended; under overload, past <see cref="MaxQueued"/> lines,
/// requests write their own line again rather than let the queue grow.
/// </remarks>
public sealed partial class RequestLog : IDisposable
{
    public const string Category = "GeminiParty.Requests";

    public static readonly TimeSpan WriteInterval = TimeSpan.FromMilliseconds(20);

    private const int MaxQueued = 10_000;

    private readonly ILogger _logger;
    private readonly ConcurrentQueue<Line> _queued = new();
    private readonly ITimer _timer;
    private int _writing;

    public RequestLog(ILoggerFactory loggers, TimeProvider time)
    {
        _logger = loggers.CreateLogger(Category);
        _timer = time.CreateTimer(static state => ((RequestLog)state!).WriteQueued(), this, WriteInterval, WriteInterval);
    }

    /// <param name="requestId">The request's id, as its answer's <c>x-request-id</c> shows it.</param>
    /// <param name="client">The client's name from CLIENTS_FILE, or _auth_token.</param>
    /// <param name="keyIndex">The last key tried, -1 when none was leased.</param>
    /// <param name="responseBytes">Body bytes relayed from upstream (0 when the gateway wrote the answer itself).</param>
    public void Completed(string requestId, string client, string route, string model, bool streaming, int keyIndex, int attempts, int status, double elapsedMs, int requestBytes, long responseBytes)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }
        var line = new Line(requestId, client, route, model, streaming, keyIndex, attempts, status, elapsedMs, requestBytes, responseBytes);
        if (_queued.Count >= MaxQueued)
        {
            Write(line);
            return;
        }
        _queued.Enqueue(line);
    }

    /// <summary>Writes what is still queued: the host disposes this before the logging providers.</summary>
    public void Dispose()
    {
        _timer.Dispose();
        WriteQueued();
    }

    private void WriteQueued()
    {
        if (Interlocked.Exchange(ref _writing, 1) == 1)
        {
            return; // the previous batch is still being written; this one joins the next
        }
        try
        {
            while (_queued.TryDequeue(out var line))
            {
                Write(line);
            }
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }

    private void Write(Line line) =>
        LogCompleted(_logger, line.RequestId, line.Client, line.Route, line.Model, line.Streaming, line.KeyIndex, line.Attempts, line.Status, line.ElapsedMs, line.RequestBytes, line.ResponseBytes);

    private sealed record Line(string RequestId, string Client, string Route, string Model, bool Streaming, int KeyIndex, int Attempts, int Status, double ElapsedMs, int RequestBytes, long ResponseBytes);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information,
        Message = "{Client} {Route} {Model} stream={Streaming} key #{KeyIndex} attempts {Attempts} -> {Status} in {ElapsedMs:0.0} ms, {RequestBytes} B in, {ResponseBytes} B out, id {RequestId}")]
    private static partial void LogCompleted(ILogger logger, string requestId, string client, string route, string model, bool streaming, int keyIndex, int attempts, int status, double elapsedMs, int requestBytes, long responseBytes);
}
