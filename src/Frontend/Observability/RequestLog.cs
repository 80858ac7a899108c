namespace GeminiParty.Frontend.Observability;

/// <summary>
/// One line per forwarded request, in a category of its own (<see cref="Category"/>) so operators can turn it down
/// without losing the gateway's other logs: LOG_REQUESTS=false, or <c>Logging__LogLevel__GeminiParty.Requests=Warning</c>.
/// It names the key by index and never holds a path or query (a client may put its token in <c>?key=</c>).
/// </summary>
public sealed partial class RequestLog(ILoggerFactory loggers)
{
    public const string Category = "GeminiParty.Requests";

    private readonly ILogger _logger = loggers.CreateLogger(Category);

    /// <param name="keyIndex">The last key tried, -1 when none was leased.</param>
    /// <param name="responseBytes">Body bytes relayed from upstream (0 when the gateway wrote the answer itself).</param>
    public void Completed(string route, string model, bool streaming, int keyIndex, int attempts, int status, double elapsedMs, int requestBytes, long responseBytes) =>
        LogCompleted(_logger, route, model, streaming, keyIndex, attempts, status, elapsedMs, requestBytes, responseBytes);

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information,
        Message = "{Route} {Model} stream={Streaming} key #{KeyIndex} attempts {Attempts} -> {Status} in {ElapsedMs:0.0} ms, {RequestBytes} B in, {ResponseBytes} B out")]
    private static partial void LogCompleted(ILogger logger, string route, string model, bool streaming, int keyIndex, int attempts, int status, double elapsedMs, int requestBytes, long responseBytes);
}
