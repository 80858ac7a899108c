using System.Diagnostics;
using System.Reflection;

namespace GeminiParty.Cluster.Tests;

/// <summary>
/// One silo or frontend, run as the README says (<c>dotnet GeminiParty.Silo.dll</c> with environment variables),
/// from the build output of the configuration these tests were built with. Its ports stay the same across restarts.
/// </summary>
public sealed class ClusterNode(string name, string project, string logDir, int httpPort, IReadOnlyDictionary<string, string?> environment) : IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(3) };

    public string Name { get; } = name;

    /// <summary>PORT: /healthz and /readyz, and for a frontend the API.</summary>
    public int HttpPort { get; } = httpPort;

    public Uri BaseAddress { get; } = new($"http://127.0.0.1:{httpPort}");

    /// <summary>ORLEANS_SILO_PORT of a silo; 0 for a frontend.</summary>
    public int SiloPort { get; } = int.TryParse(environment.GetValueOrDefault("ORLEANS_SILO_PORT"), out var port) ? port : 0;

    public ChildProcess? Process { get; private set; }

    public bool IsRunning => Process is { HasExited: false };

    /// <summary>The dll of a product project, e.g. src/Silo/bin/Debug/net10.0/GeminiParty.Silo.dll.</summary>
    public static string AssemblyPath(string project, string assemblyName)
    {
        var configuration = typeof(ClusterNode).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var path = Path.Combine(RepoRoot.Path, "src", project, "bin", configuration, "net10.0", $"{assemblyName}.dll");
        Assert.True(File.Exists(path), $"{path} is missing: build the solution in {configuration} first");
        return path;
    }

    public async Task StartAsync()
    {
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }
        Process = ChildProcess.Start(Name, logDir, "dotnet", [project], environment);
    }

    /// <summary>Polls /readyz until it answers 200; fails with the log's tail if the process dies or time runs out.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var process = Process ?? throw new InvalidOperationException($"{Name} was never started");
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(process.HasExited, $"{Name} exited during start\n{process.Tail()}");
            try
            {
                using var response = await Probe.GetAsync(new Uri(BaseAddress, "/readyz"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }
            Assert.True(elapsed.Elapsed < timeout, $"{Name} not ready at {BaseAddress}readyz after {timeout.TotalSeconds:0}s\n{process.Tail()}");
            await Task.Delay(200);
        }
    }

    public void Kill() => Process?.Kill();

    public Task StopAsync() => Process?.StopAsync(TimeSpan.FromSeconds(30)) ?? Task.CompletedTask;

    public string Tail(int lines = 40) => Process?.Tail(lines) ?? $"---- {Name}: never started ----";

    public async ValueTask DisposeAsync()
    {
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }
    }
}
