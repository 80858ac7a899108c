using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// The gateway with a CLIENTS_FILE of named clients (one per test, so windows start empty), ADMIN_TOKEN, and a fake
/// clock for the grains (windows and days move when a test says so). AUTH_TOKEN still works as the unnamed client.
/// </summary>
public sealed class ClientsFrontendFixture : FrontendFixture
{
    public const string AdminToken = "clients-admin-token";

    public static readonly string BobToken = "bob-secret-token";

    /// <summary>The clients file as it starts: bob's token only as its SHA-256.</summary>
    public static readonly string InitialClients = $"""
        # name token limits
        alice alice-secret-token rpm=3
        bob sha256:{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(BobToken))).ToLowerInvariant()} tpd=1
        carol carol-secret-token concurrency=1
        dave dave-secret-token models=gemini-allowed-*,gemini-exact live=false
        erin erin-secret-token
        frank frank-secret-token rpd=2
        grace grace-secret-token rpm=100
        ivan ivan-secret-token rpm=2
        judy judy-secret-token concurrency=1
        kim kim-secret-token tpd=1
        mia mia-secret-token models=gemini-live-ok-*
        nina nina-secret-token concurrency=1
        """;

    /// <summary>The line a line appended to <see cref="InitialClients"/> (after a newline) is on.</summary>
    public static int NextLine => InitialClients.Split('\n').Length + 1;

    public string ClientsPath { get; } = Path.Combine(Path.GetTempPath(), $"gemini-party-clients-{Guid.NewGuid():N}.txt");

    /// <summary>Starts in the middle of a Pacific day (18:00 UTC is 10:00 or 11:00 in Los Angeles).</summary>
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 26, 18, 0, 0, TimeSpan.Zero));

    protected override IReadOnlyDictionary<string, string> ExtraSettings
    {
        get
        {
            File.WriteAllText(ClientsPath, InitialClients);
            return new Dictionary<string, string> { ["CLIENTS_FILE"] = ClientsPath, ["ADMIN_TOKEN"] = AdminToken };
        }
    }

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddKeyedSingleton<TimeProvider>(ServiceKeys.PoolClock, Clock);

    /// <summary>Waits until <paramref name="condition"/> holds, polling; fails after 15 s.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
