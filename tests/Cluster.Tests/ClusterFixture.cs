using System.Text;
using System.Text.Json;
using GeminiParty.FakeGemini;

namespace GeminiParty.Cluster.Tests;

/// <summary>
/// A cluster as a team runs it: a real redis-server, two silo processes and two frontend processes on Redis
/// membership, in front of the fake Gemini upstream. Logs of every process go to <see cref="LogDir"/>; assertion
/// messages carry their tails (<see cref="Diagnostics"/>).
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    public const string Token = "cluster-client-token";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly List<ClusterNode> _silos = [];
    private readonly List<ClusterNode> _frontends = [];
    private readonly List<HttpClient> _clients = [];
    private Dictionary<string, string?> _common = [];

    /// <summary>Distinctive upstream keys: finding one in Redis or in a response means a leak.</summary>
    public IReadOnlyList<string> Keys { get; } = Enumerable.Range(0, 4)
        .Select(i => $"AIzaSyClusterKey{i}-{new string((char)('p' + i), 20)}")
        .ToArray();

    public string LogDir { get; } = Path.Combine(Path.GetTempPath(), "gemini-party-cluster-tests", $"{DateTime.Now:HHmmss}-{Guid.NewGuid():N}"[..15]);

    public string ClusterId { get; } = $"test-{Guid.NewGuid():N}";

    public RedisServer Redis { get; private set; } = null!;

    public FakeGeminiServer Upstream { get; private set; } = null!;

    public IReadOnlyList<ClusterNode> Silos => _silos;

    public IReadOnlyList<ClusterNode> Frontends => _frontends;

    /// <summary>How many of <see cref="Keys"/> the cluster is given.</summary>
    protected virtual int KeyCount => 3;

    public IReadOnlyList<string> ConfiguredKeys => Keys.Take(KeyCount).ToArray();

    /// <summary>
    /// LEASE_BATCH for every frontend, or null for the default. One turn of the ring: a frontend holds each key at most
    /// once, so the fairness bound is 1 + frontends.
    /// </summary>
    protected virtual int? LeaseBatchSetting => KeyCount;

    /// <summary>The LEASE_BATCH the frontends run with.</summary>
    public int LeaseBatch => LeaseBatchSetting ?? 64;

    /// <summary>Settings of every silo and frontend on top of the common ones (a key file, say); null removes one.</summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>();

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(LogDir);
        Upstream = await FakeGeminiServer.StartAsync(new FakeGeminiOptions { ValidKeys = [.. Keys] });
        Redis = new RedisServer(LogDir, Path.Combine(LogDir, "redis-data"), FreeTcpPort.Next());
        await Redis.StartAsync(TimeSpan.FromSeconds(20));

        var common = _common = new Dictionary<string, string?>
        {
            ["REDIS_CONNECTION_STRING"] = Redis.ConnectionString,
            ["ORLEANS_CLUSTER_ID"] = ClusterId,
            ["ORLEANS_ADVERTISED_IP"] = "127.0.0.1",
            ["GEMINI_API_KEY"] = string.Join(",", ConfiguredKeys),
            ["AUTH_TOKEN"] = Token,
            ["GEMINI_BASE_URL"] = Upstream.BaseAddress,
            ["Logging__LogLevel__Default"] = "Information",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
        };
        if (LeaseBatchSetting is { } leaseBatch)
        {
            common["LEASE_BATCH"] = leaseBatch.ToString();
        }
        foreach (var (name, value) in ExtraSettings)
        {
            common[name] = value;
        }
        var siloDll = ClusterNode.AssemblyPath("Silo", "GeminiParty.Silo");
        var frontendDll = ClusterNode.AssemblyPath("Frontend", "GeminiParty.Frontend");
        for (var i = 1; i <= 2; i++)
        {
            var httpPort = FreeTcpPort.Next();
            _silos.Add(new ClusterNode($"silo-{i}", siloDll, LogDir, httpPort, new Dictionary<string, string?>(common)
            {
                ["PORT"] = httpPort.ToString(),
                ["ORLEANS_SILO_PORT"] = FreeTcpPort.Next().ToString(),
                ["ORLEANS_GATEWAY_PORT"] = FreeTcpPort.Next().ToString(),
            }));
        }
        for (var i = 1; i <= 2; i++)
        {
            var httpPort = FreeTcpPort.Next();
            _frontends.Add(new ClusterNode($"frontend-{i}", frontendDll, LogDir, httpPort, new Dictionary<string, string?>(common)
            {
                ["PORT"] = httpPort.ToString(),
            }));
            _clients.Add(new HttpClient { BaseAddress = _frontends[^1].BaseAddress, Timeout = TimeSpan.FromSeconds(60) });
        }
        await StartNodesAsync();
    }

    /// <summary>Starts whatever is not running (Redis, then silos, then frontends) and waits until all are ready.</summary>
    public async Task EnsureRunningAsync()
    {
        if (!Redis.IsRunning)
        {
            await Redis.StartAsync(TimeSpan.FromSeconds(20));
        }
        await StartNodesAsync();
    }

    /// <summary>SIGTERM to frontends, then silos, then Redis, each group waited for: a full, clean shutdown.</summary>
    public async Task StopAllAsync()
    {
        await Task.WhenAll(_frontends.Select(node => node.StopAsync()));
        await Task.WhenAll(_silos.Select(node => node.StopAsync()));
        await Redis.StopAsync();
    }

    public HttpClient Client(int frontend) => _clients[frontend];

    /// <summary>
    /// Starts one more frontend with its own GEMINI_API_KEY, as during a rolling update where the key lists differ for
    /// a while. The caller disposes it.
    /// </summary>
    public async Task<ClusterNode> StartFrontendAsync(string name, IEnumerable<string> keys)
    {
        var node = CreateNode(name, "Frontend", new() { ["GEMINI_API_KEY"] = string.Join(",", keys) });
        await node.StartAsync();
        await node.WaitReadyAsync(StartTimeout);
        return node;
    }

    /// <summary>
    /// A process of this fixture's Redis and upstream, not started, with settings overridden (e.g. another cluster id).
    /// <paramref name="project"/> is "Silo" or "Frontend". The caller disposes it.
    /// </summary>
    public ClusterNode CreateNode(string name, string project, Dictionary<string, string?> overrides)
    {
        var httpPort = FreeTcpPort.Next();
        var environment = new Dictionary<string, string?>(_common) { ["PORT"] = httpPort.ToString() };
        if (project == "Silo")
        {
            environment["ORLEANS_SILO_PORT"] = FreeTcpPort.Next().ToString();
            environment["ORLEANS_GATEWAY_PORT"] = FreeTcpPort.Next().ToString();
        }
        foreach (var (key, value) in overrides)
        {
            environment[key] = value;
        }
        return new ClusterNode(name, ClusterNode.AssemblyPath(project, $"GeminiParty.{project}"), LogDir, httpPort, environment);
    }

    /// <summary>A model name no other test uses, so rotation and cooldowns start fresh.</summary>
    public static string NewModel() => $"gemini-cluster-{Guid.NewGuid():N}"[..28];

    public static HttpRequestMessage GenerateRequest(string model)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1beta/models/{model}:generateContent")
        {
            Content = new StringContent("""{"contents":[{"parts":[{"text":"hello cluster"}]}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", Token);
        return request;
    }

    /// <summary>One generateContent call through one frontend; the status code, or 0 when the connection failed.</summary>
    public async Task<int> GenerateAsync(int frontend, string model, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await Client(frontend).SendAsync(GenerateRequest(model), cancellationToken);
            await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    /// <summary>/rotation-status of one frontend, as JSON.</summary>
    public async Task<JsonElement> StatusAsync(int frontend, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/rotation-status");
        request.Headers.Authorization = new("Bearer", Token);
        using var response = await Client(frontend).SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"/rotation-status on frontend-{frontend + 1}: {(int)response.StatusCode} {body}\n{Diagnostics()}");
        return JsonSerializer.Deserialize<JsonElement>(body);
    }

    /// <summary>
    /// /rotation-status of one frontend once it counts <paramref name="attempts"/> attempts for the model (frontends
    /// report outcomes in batches, so counts trail the answers by a batch interval), or as it is after 10 s.
    /// </summary>
    public async Task<JsonElement> StatusCountingAsync(int frontend, string model, long attempts, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var status = await StatusAsync(frontend, cancellationToken);
            if (status.Total(model, "attempts") >= attempts || DateTime.UtcNow > deadline)
            {
                return status;
            }
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Which of <see cref="Keys"/> the upstream saw for one model, in completion order.</summary>
    public int[] KeysSeenFor(string model) =>
        Upstream.Requests.Where(r => r.Model == model).Select(r => IndexOfKey(r.ApiKey)).ToArray();

    public int IndexOfKey(string? key) => key is null ? -1 : Array.IndexOf([.. Keys], key);

    /// <summary>Tails of every process log: appended to assertion messages.</summary>
    public string Diagnostics(int lines = 30)
    {
        var builder = new StringBuilder($"logs in {LogDir}\n");
        foreach (var tail in _silos.Concat(_frontends).Select(node => node.Tail(lines)).Append(Redis.Process?.Tail(10) ?? ""))
        {
            builder.AppendLine(tail);
        }
        return builder.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        await Task.WhenAll(_frontends.Concat(_silos).Select(node => node.DisposeAsync().AsTask()));
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }

    private async Task StartNodesAsync()
    {
        // Silos first: a frontend's Orleans client needs a gateway listed in Redis.
        var silos = _silos.Where(node => !node.IsRunning).ToArray();
        foreach (var silo in silos)
        {
            await silo.StartAsync();
        }
        await Task.WhenAll(silos.Select(silo => silo.WaitReadyAsync(StartTimeout)));
        var frontends = _frontends.Where(node => !node.IsRunning).ToArray();
        foreach (var frontend in frontends)
        {
            await frontend.StartAsync();
        }
        await Task.WhenAll(frontends.Select(frontend => frontend.WaitReadyAsync(StartTimeout)));
    }

}

/// <summary>The cluster for tests that leave it as they found it.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

/// <summary>A cluster of its own for tests that kill processes: four keys, one of which may end up invalid.</summary>
public sealed class DurabilityClusterFixture : ClusterFixture
{
    protected override int KeyCount => 4;
}

[CollectionDefinition(Name)]
public sealed class DurabilityCollection : ICollectionFixture<DurabilityClusterFixture>
{
    public const string Name = "durability";
}

/// <summary>A cluster with the frontends' default settings (LEASE_BATCH included) and four keys.</summary>
public sealed class DefaultSettingsClusterFixture : ClusterFixture
{
    protected override int KeyCount => 4;

    protected override int? LeaseBatchSetting => null;
}

[CollectionDefinition(Name)]
public sealed class DefaultSettingsCollection : ICollectionFixture<DefaultSettingsClusterFixture>
{
    public const string Name = "default settings";
}
