using System.Diagnostics;
using System.Text;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// The built frontend run as its own process (<c>dotnet GeminiParty.Frontend.dll</c>), as a user starts it, in a
/// temporary working directory, with its standard output and error captured.
/// </summary>
internal sealed class FrontendProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _workingDirectory;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private FrontendProcess(Process process, DirectoryInfo workingDirectory)
    {
        _process = process;
        _workingDirectory = workingDirectory;
    }

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    /// <summary>Starts it with these variables (null removes one inherited from the test run) and an optional .env.</summary>
    public static async Task<FrontendProcess> StartAsync(Dictionary<string, string?> environment, string? dotEnv = null)
    {
        var workingDirectory = Directory.CreateTempSubdirectory("gp-frontend-");
        if (dotEnv is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(workingDirectory.FullName, ".env"), dotEnv, TestContext.Current.CancellationToken);
        }
        var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location])
        {
            WorkingDirectory = workingDirectory.FullName,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        var frontend = new FrontendProcess(Process.Start(start)!, workingDirectory);
        frontend._process.OutputDataReceived += (_, line) => Append(frontend._stdout, line.Data);
        frontend._process.ErrorDataReceived += (_, line) => Append(frontend._stderr, line.Data);
        frontend._process.BeginOutputReadLine();
        frontend._process.BeginErrorReadLine();
        return frontend;
    }

    /// <summary>Polls <c>/readyz</c> through <paramref name="http"/> until it answers 200; fails after 60 s with the log.</summary>
    public async Task WaitUntilReadyAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var ready = await http.GetAsync("/readyz", TestContext.Current.CancellationToken);
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.Fail($"not ready after 60 s; log:\n{Stdout}\n{Stderr}");
    }

    /// <summary>SIGTERM (Ctrl+C, <c>docker stop</c>, Kubernetes), then <see cref="WaitForExitAsync"/>.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        return await WaitForExitAsync(timeout);
    }

    /// <summary>Waits for the process to end by itself; kills it after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw;
        }
        _process.WaitForExit(); // the last lines of output
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _workingDirectory.Delete(recursive: true);
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }
}
