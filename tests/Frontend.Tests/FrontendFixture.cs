using GeminiParty.FakeGemini;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// The product as a user runs it in embedded mode (its own Program, a co-hosted silo, Kestrel on a loopback port),
/// in front of the fake Gemini upstream. Tests talk to it over real HTTP.
/// </summary>
public class FrontendFixture : IAsyncLifetime
{
    public const string Token = "client-token-one";
    public const string SecondToken = "client-token-two";

    /// <summary>Distinctive upstream keys: any response or log that contains one has leaked it.</summary>
    public static readonly string[] Keys =
    [
        "AIzaSyFrontendKey0-aaaaaaaaaaaaaaaaaaaaa",
        "AIzaSyFrontendKey1-bbbbbbbbbbbbbbbbbbbbb",
        "AIzaSyFrontendKey2-ccccccccccccccccccccc",
    ];

    private WebApplicationFactory<Program>? _factory;

    public FakeGeminiServer Upstream { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public IServiceProvider Services => _factory!.Services;

    /// <summary>Every line the product logged, at every level.</summary>
    public CapturedLogs Logs { get; } = new();

    /// <summary>How the fake upstream starts: by default it accepts only <see cref="Keys"/>.</summary>
    protected virtual FakeGeminiOptions UpstreamOptions => new() { ValidKeys = Keys };

    /// <summary>Settings on top of the common ones (e.g. API_PREFIX, HARM_CATEGORY_*).</summary>
    protected virtual IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>();

    /// <summary>Services on top of the product's own (e.g. a fake clock); registered last, so they win.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    public async ValueTask InitializeAsync()
    {
        Upstream = await FakeGeminiServer.StartAsync(UpstreamOptions);
        var settings = new Dictionary<string, string>
        {
            ["GEMINI_API_KEY"] = string.Join(",", Keys),
            ["AUTH_TOKEN"] = $"{Token},{SecondToken}",
            ["GEMINI_BASE_URL"] = Upstream.BaseAddress,
            ["ORLEANS_SILO_PORT"] = FreeTcpPort.Next().ToString(),
            ["ORLEANS_GATEWAY_PORT"] = FreeTcpPort.Next().ToString(),
            ["BLACKLIST_TIMEOUT"] = "300000",
            ["DEFAULT_MAX_RETRIES"] = "3",
            ["MAX_WAIT"] = "0", // today's immediate 429 unless a test asks for waiting
            ["urls"] = "http://127.0.0.1:0",
        };
        foreach (var (name, value) in ExtraSettings)
        {
            settings[name] = value;
        }
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            foreach (var (name, value) in settings)
            {
                builder.UseSetting(name, value);
            }
            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(Logs));
            builder.ConfigureServices(ConfigureServices);
        });
        _factory.UseKestrel();
        _factory.StartServer();
        var address = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
        await Upstream.DisposeAsync();
    }

    /// <summary>A model name no other test uses, so rotation and cooldowns start fresh.</summary>
    public static string NewModel() => $"gemini-test-{Guid.NewGuid():N}"[..24];

    public HttpRequestMessage Request(HttpMethod method, string path, string? json = null, string? token = Token)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        return request;
    }

    /// <summary>Which of <see cref="Keys"/> the upstream saw, in order, for one model.</summary>
    public int[] KeysSeenFor(string model) =>
        Upstream.Requests.Where(r => r.Model == model).Select(r => Array.IndexOf(Keys, r.ApiKey)).ToArray();

}

[CollectionDefinition(Name)]
public sealed class FrontendCollection : ICollectionFixture<FrontendFixture>
{
    public const string Name = "gateway";
}
