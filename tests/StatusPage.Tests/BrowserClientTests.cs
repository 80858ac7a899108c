using System.Text.Json;
using Microsoft.Playwright;

namespace GeminiParty.StatusPage.Tests;

/// <summary>
/// A team's web app calls the gateway from its own origin with the SDKs' browser builds (<c>@google/genai</c>'s web
/// build, <c>openai</c> with <c>dangerouslyAllowBrowser</c>), in chromium, which enforces CORS as it does for every page.
/// The page (BrowserApp/) comes from a server of its own (<see cref="BrowserAppServer"/>), so its origin is not the gateway's.
/// </summary>
public sealed class BrowserClientTests(StatusPageFixture gateway) : IClassFixture<StatusPageFixture>, IAsyncLifetime
{
    private BrowserAppServer app = null!;

    [Fact]
    public async Task A_page_of_another_origin_uses_both_sdks_uploads_a_file_opens_a_live_session_and_reads_errors()
    {
        var model = $"gemini-browser-{Guid.NewGuid():N}"[..26];
        var (page, origin) = await OpenAppAsync();
        var earlier = gateway.Upstream.Requests.Count;

        var result = await page.EvaluateAsync<JsonElement>("args => window.gatewayCalls(args)",
            new { baseUrl = gateway.BaseAddress.ToString().TrimEnd('/'), token = StatusPageFixture.Token, model });

        Assert.Equal(origin, result.GetProperty("origin").GetString());
        var google = result.GetProperty("google");
        Assert.StartsWith("Piece 1 of", google.GetProperty("text").GetString());
        Assert.True(google.GetProperty("events").GetInt32() >= 2, $"the stream reached the page as {google.GetProperty("events")} events");
        Assert.StartsWith("files/", google.GetProperty("file").GetString());
        Assert.Equal("20", google.GetProperty("fileBytes").GetString()); // "bytes from a browser", through the upload session
        var openai = result.GetProperty("openai");
        Assert.False(string.IsNullOrEmpty(openai.GetProperty("content").GetString()));
        Assert.StartsWith("gateway;dur=", openai.GetProperty("serverTiming").GetString()); // an answer header the page may read
        var refused = result.GetProperty("refused");
        Assert.Equal(401, refused.GetProperty("status").GetInt32()); // the gateway's own error, handed to the page
        Assert.Contains("client token", refused.GetProperty("message").GetString());
        Assert.Equal("Fake live answer to: Hello live from a browser", result.GetProperty("live").GetString());

        Assert.Equal(2, gateway.Upstream.Requests.Count(r => r.Model == model && r.Surface == "native"));
        Assert.Single(gateway.Upstream.Live.Sessions, s => s.Model?.EndsWith(model, StringComparison.Ordinal) == true);
        Assert.DoesNotContain(gateway.Upstream.Requests.Skip(earlier), r => r.Headers.Keys.Any(name => name.Equals("Origin", StringComparison.OrdinalIgnoreCase)));
        await page.CloseAsync();
    }

    [Fact]
    public async Task The_same_page_cannot_read_an_endpoint_without_cors_which_is_what_the_gateway_adds()
    {
        var (page, _) = await OpenAppAsync();

        var direct = await page.EvaluateAsync<string>("args => window.directCall(args)",
            new { url = gateway.Upstream.BaseAddress.TrimEnd('/') + "/v1beta/models", key = StatusPageFixture.Keys[0] });
        var throughGateway = await page.EvaluateAsync<string>("args => window.directCall(args)",
            new { url = gateway.BaseAddress + "v1beta/models", key = StatusPageFixture.Token });

        Assert.Equal("TypeError", direct); // chromium kept the answer from the page
        Assert.Equal("read", throughGateway);
        await page.CloseAsync();
    }

    /// <summary>A new tab on the app, served from its own origin.</summary>
    private async Task<(IPage Page, string Origin)> OpenAppAsync()
    {
        var page = await gateway.Browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        page.Console += (_, message) => Console.Error.WriteLine($"CONSOLE {message.Type}: {message.Text}");
        await page.GotoAsync(app.Origin + "/app.html");
        await page.WaitForFunctionAsync("() => typeof window.gatewayCalls === 'function'");
        Assert.Empty(errors);
        return (page, app.Origin);
    }

    public async ValueTask InitializeAsync() => app = await BrowserAppServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
    }
}
