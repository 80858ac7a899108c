using GeminiParty.FakeGemini;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace GeminiParty.StatusPage.Tests;

/// <summary>
/// The product in embedded mode on real Kestrel in front of the fake upstream (as tests/Frontend.Tests' FrontendFixture
/// does), and Debian's chromium driven by Playwright, never a downloaded browser.
/// </summary>
public sealed class StatusPageFixture : IAsyncLifetime
{
    public const string Token = "status-page-token";
    public const string Chromium = "/usr/bin/chromium";
    public const string AdminToken = "status-page-admin-token";
    public const string ClientToken = "status-page-client-token";

    /// <summary>One named client with a per-minute limit, so the page has a client row and rate-limited bars to show.</summary>
    public string ClientsPath { get; } = Path.Combine(Path.GetTempPath(), $"gemini-party-page-clients-{Guid.NewGuid():N}.txt");

    public static readonly string[] Keys =
    [
        "AIzaSyStatusPageKey0-aaaaaaaaaaaaaaaaaaa",
        "AIzaSyStatusPageKey1-bbbbbbbbbbbbbbbbbbb",
        "AIzaSyStatusPageKey2-ccccccccccccccccccc",
    ];

    private WebApplicationFactory<Program>? _factory;
    private IPlaywright? _playwright;

    public FakeGeminiServer Upstream { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Upstream = await FakeGeminiServer.StartAsync(new FakeGeminiOptions { ValidKeys = Keys });
        await File.WriteAllTextAsync(ClientsPath, $"pagebob {ClientToken} rpm=2 tpd=5000000\n");
        var settings = new Dictionary<string, string>
        {
            ["GEMINI_API_KEY"] = string.Join(",", Keys),
            ["AUTH_TOKEN"] = Token,
            ["GEMINI_BASE_URL"] = Upstream.BaseAddress,
            ["ORLEANS_SILO_PORT"] = FreeTcpPort.Next().ToString(),
            ["ORLEANS_GATEWAY_PORT"] = FreeTcpPort.Next().ToString(),
            ["LOG_REQUESTS"] = "false",
            ["CLIENTS_FILE"] = ClientsPath,
            ["ADMIN_TOKEN"] = AdminToken,
            ["urls"] = "http://127.0.0.1:0",
        };
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            foreach (var (name, value) in settings)
            {
                builder.UseSetting(name, value);
            }
        });
        _factory.UseKestrel();
        _factory.StartServer();
        BaseAddress = new Uri(_factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Client.DefaultRequestHeaders.Authorization = new("Bearer", Token);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        Client?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
        await Upstream.DisposeAsync();
    }

    /// <summary>Where test artifacts go: <c>artifacts/</c> at the repository root (git-ignored).</summary>
    public static string ArtifactPath(string name)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "gemini-party.slnx")))
        {
            directory = directory.Parent;
        }
        var artifacts = Path.Combine(directory?.FullName ?? AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        return Path.Combine(artifacts, name);
    }

}
