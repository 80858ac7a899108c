using Microsoft.Extensions.Logging;

namespace GeminiParty.Hosting.ListFiles;

/// <summary>
/// A file read at start and re-read on a timer, whose parsed content replaces the current one when it changes. The path
/// is opened anew at each poll, so a Kubernetes Secret volume (which swaps a symlink) is followed. A change is taken
/// only once two polls in a row read the same text, so a file caught half written is never applied; content that does
/// not parse leaves the last good one in force and shows in <see cref="Status"/>.
/// </summary>
public sealed partial class ReloadingFile<T> : IDisposable where T : class
{
    private readonly string _path;
    private readonly Func<string, T> _parse;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private string _appliedText;
    private string? _pendingText;
    private string? _rejectedText;
    private ReloadingFileStatus _status;
    private T _current;

    /// <summary>Reads and parses the file now.</summary>
    /// <exception cref="ListFileFormatException">the content does not parse.</exception>
    /// <exception cref="IOException">the file cannot be read.</exception>
    public ReloadingFile(string path, Func<string, T> parse, TimeSpan pollInterval, TimeProvider time, ILogger logger)
    {
        _path = path;
        _parse = parse;
        _time = time;
        _logger = logger;
        _appliedText = File.ReadAllText(path);
        _current = parse(_appliedText);
        _status = new ReloadingFileStatus(path, time.GetUtcNow(), null, null);
        _timer = time.CreateTimer(_ => Poll(), null, pollInterval, pollInterval);
    }

    public T Current => Volatile.Read(ref _current);

    public ReloadingFileStatus Status => Volatile.Read(ref _status);

    /// <summary>Raised after a new content took effect, on the timer's thread.</summary>
    public event Action<T>? Changed;

    /// <summary>Reads the file once and applies a change that two reads in a row agree on.</summary>
    public void Poll()
    {
        T? changed = null;
        lock (_gate)
        {
            string text;
            try
            {
                text = File.ReadAllText(_path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                if (_status.Error is null)
                {
                    LogUnreadable(_logger, ex, _path);
                }
                _status = _status with { Error = $"cannot be read ({ex.GetType().Name}); the last good content stays in force", ErrorAt = _time.GetUtcNow() };
                return;
            }
            if (text == _appliedText)
            {
                _pendingText = null;
                if (_status.Error is not null)
                {
                    _status = _status with { Error = null, ErrorAt = null }; // back to what is in force
                }
                return;
            }
            if (text != _pendingText)
            {
                _pendingText = text; // changed since the last poll: maybe still being written
                return;
            }
            if (text == _rejectedText)
            {
                return; // already reported
            }
            try
            {
                changed = _parse(text);
            }
            catch (ListFileFormatException ex)
            {
                _rejectedText = text;
                _status = _status with { Error = $"{ex.Message}; the last good content stays in force", ErrorAt = _time.GetUtcNow() };
                LogRejected(_logger, ex, _path, ex.Line);
                return;
            }
            _appliedText = text;
            _pendingText = null;
            _rejectedText = null;
            _status = new ReloadingFileStatus(_path, _time.GetUtcNow(), null, null);
            Volatile.Write(ref _current, changed);
        }
        LogReloaded(_logger, _path);
        Changed?.Invoke(changed);
    }

    public void Dispose() => _timer.Dispose();

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Reloaded {Path}: the new content is in force")]
    private static partial void LogReloaded(ILogger logger, string path);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Rejected the change to {Path} (line {Line}); the last good content stays in force")]
    private static partial void LogRejected(ILogger logger, Exception exception, string path, int line);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Cannot read {Path}; the last good content stays in force")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string path);
}
