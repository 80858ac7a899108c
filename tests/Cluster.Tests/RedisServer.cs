using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace GeminiParty.Cluster.Tests;

/// <summary>
/// Debian's <c>redis-server</c> on a loopback port, with the append-only file in a folder of its own so that a
/// stop and start keeps the data, as a production Redis with persistence does.
/// </summary>
public sealed class RedisServer(string logDir, string dataDir, int port) : IAsyncDisposable
{
    private const string Executable = "/usr/bin/redis-server";

    public int Port { get; } = port;

    public string ConnectionString => $"127.0.0.1:{Port}";

    public ChildProcess? Process { get; private set; }

    public bool IsRunning => Process is { HasExited: false };

    public async Task StartAsync(TimeSpan timeout)
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing: apt-get install redis-server");
        Directory.CreateDirectory(dataDir);
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }
        Process = ChildProcess.Start("redis", logDir, Executable,
            ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", dataDir, "--daemonize", "no"],
            new Dictionary<string, string?>());
        var deadline = Stopwatch.StartNew();
        while (await PingAsync() is false)
        {
            Assert.False(Process.HasExited, $"redis-server exited during start\n{Process.Tail()}");
            Assert.True(deadline.Elapsed < timeout, $"redis-server not answering PING after {timeout}\n{Process.Tail()}");
            await Task.Delay(100);
        }
    }

    /// <summary>SIGTERM: Redis flushes its append-only file and exits, like a pod being stopped.</summary>
    public Task StopAsync() => Process?.StopAsync(TimeSpan.FromSeconds(10)) ?? Task.CompletedTask;

    /// <summary>SIGKILL: no goodbye, as after an OOM kill or a lost node; only what reached the append-only file survives.</summary>
    public void Kill() => Process?.Kill();

    /// <summary>Every key with its value as text (binary values come out with replacement characters).</summary>
    public async Task<IReadOnlyDictionary<string, string>> DumpAsync()
    {
        var keys = (await CommandAsync("KEYS", "*")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            var type = (await CommandAsync("TYPE", key)).Trim();
            values[key] = type switch
            {
                "string" => await CommandAsync("GET", key),
                "hash" => await CommandAsync("HGETALL", key),
                _ => $"({type})",
            };
        }
        return values;
    }

    /// <summary>Seconds until Redis drops <paramref name="key"/> by itself: -1 for a key without expiry, -2 for no such key.</summary>
    public async Task<long> SecondsToLiveAsync(string key) => long.Parse((await CommandAsync("TTL", key)).Trim());

    public async ValueTask DisposeAsync()
    {
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }
    }

    private async Task<string> CommandAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["-p", Port.ToString(), "--raw", .. arguments])
        {
            info.ArgumentList.Add(argument);
        }
        using var cli = System.Diagnostics.Process.Start(info)!;
        var output = await cli.StandardOutput.ReadToEndAsync();
        await cli.WaitForExitAsync();
        return output;
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(1));
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }
}
