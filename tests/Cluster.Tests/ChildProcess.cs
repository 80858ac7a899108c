using System.Diagnostics;

namespace GeminiParty.Cluster.Tests;

/// <summary>
/// One process of the cluster (redis-server, a silo, a frontend), its stdout and stderr appended to one log file.
/// Every process started here is killed when the test run ends, whatever happens to the fixture.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private static readonly List<ChildProcess> Started = [];
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();

    static ChildProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (Started)
            {
                foreach (var child in Started)
                {
                    child.Kill();
                }
            }
        };
    }

    private ChildProcess(string name, string logPath, Process process, StreamWriter log)
    {
        Name = name;
        LogPath = logPath;
        _process = process;
        _log = log;
    }

    public string Name { get; }

    public string LogPath { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public static ChildProcess Start(string name, string logDir, string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = logDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        // Settings the test runner itself may carry must not leak into the product processes.
        foreach (var inherited in new[] { "ASPNETCORE_URLS", "urls", "DOTNET_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT" })
        {
            info.Environment.Remove(inherited);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var logPath = Path.Combine(logDir, $"{name}.log");
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        log.WriteLine($"==== {DateTimeOffset.Now:O} {fileName} {string.Join(' ', info.ArgumentList)}");
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(name, logPath, process, log);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (Started)
        {
            Started.Add(child);
        }
        return child;
    }

    /// <summary>SIGKILL to the process and its children: no shutdown code runs, as with <c>kill -9</c>.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
    }

    /// <summary>SIGTERM (what Kubernetes and <c>docker stop</c> send), then waits; SIGKILL if it does not exit in time.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Append($"==== did not stop within {grace.TotalSeconds:0}s of SIGTERM; killing");
            Kill();
            await _process.WaitForExitAsync();
        }
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>The last lines of the log, for assertion messages.</summary>
    public string Tail(int lines = 40)
    {
        string[] all;
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            all = reader.ReadToEnd().Split('\n');
        }
        catch (IOException ex)
        {
            return $"(log {LogPath} unreadable: {ex.Message})";
        }
        var state = _process.HasExited ? $"exited with {_process.ExitCode}" : $"running as pid {_process.Id}";
        return $"---- {Name} ({state}), last {lines} lines of {LogPath} ----\n{string.Join('\n', all.TakeLast(lines))}";
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        if (!_process.HasExited)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        lock (Started)
        {
            Started.Remove(this);
        }
        _process.Dispose();
        lock (_logLock)
        {
            _log.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_logLock)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // output that arrives after dispose
            }
        }
    }
}
