using System.Net;
using GeminiParty.Frontend.Hosting;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// Web pages call the gateway as they call Google's endpoint: a browser's preflight is answered without a token, every
/// answer (errors included) carries what the browser needs to hand it to the page, and CORS_ORIGINS narrows or turns
/// it off. A browser driving the SDKs through it: tests/StatusPage.Tests' BrowserClientTests.
/// </summary>
[Collection(FrontendCollection.Name)]
public sealed class CorsTests(FrontendFixture gateway)
{
    private const string Page = "https://app.example.com";

    [Fact]
    public async Task A_preflight_is_answered_without_a_token_and_reaches_no_key()
    {
        var model = FrontendFixture.NewModel();
        using var preflight = Preflight($"/v1beta/models/{model}:generateContent", Page, "x-goog-api-key,content-type,x-goog-api-client");

        using var response = await gateway.Client.SendAsync(preflight, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal("POST", Header(response, "Access-Control-Allow-Methods"));
        Assert.Equal("x-goog-api-key,content-type,x-goog-api-client", Header(response, "Access-Control-Allow-Headers"));
        Assert.Equal("3600", Header(response, "Access-Control-Max-Age"));
        Assert.DoesNotContain(gateway.Upstream.Requests, r => r.Model == model);
    }

    [Fact]
    public async Task Answers_and_the_gateways_own_errors_are_readable_by_the_page_and_no_origin_goes_upstream()
    {
        var model = FrontendFixture.NewModel();
        using var call = gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        call.Headers.Add("Origin", Page);
        using var refused = gateway.Request(HttpMethod.Get, "/v1beta/models", token: "not-a-token");
        refused.Headers.Add("Origin", Page);

        using var answer = await gateway.Client.SendAsync(call, TestContext.Current.CancellationToken);
        using var error = await gateway.Client.SendAsync(refused, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("*", Header(answer, "Access-Control-Allow-Origin"));
        Assert.Equal("*", Header(answer, "Access-Control-Expose-Headers")); // x-goog-upload-url, x-ratelimit-*, ...
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal("*", Header(error, "Access-Control-Allow-Origin"));
        var sent = gateway.Upstream.Requests.Single(r => r.Model == model);
        Assert.DoesNotContain(sent.Headers.Keys, name => name.Equals("Origin", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_request_without_an_origin_gets_no_cors_headers()
    {
        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, "/v1beta/models"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData(null, "https://app.example.com", true)]
    [InlineData("*", "https://other.example.net", true)]
    [InlineData(" off ", "https://app.example.com", false)]
    [InlineData("https://App.Example.com/, http://localhost:5173", "https://app.example.com", true)]
    [InlineData("https://App.Example.com/, http://localhost:5173", "http://localhost:5173", true)]
    [InlineData("https://App.Example.com/, http://localhost:5173", "http://localhost:5174", false)]
    [InlineData("https://App.Example.com/, http://localhost:5173", "http://app.example.com", false)]
    [InlineData("https://*.example.com", "https://pr-42.example.com", true)]
    [InlineData("https://*.example.com", "https://a.b.example.com", true)]
    [InlineData("https://*.example.com", "https://example.com", false)]
    [InlineData("https://*.example.com", "https://evilexample.com", false)]
    [InlineData("https://*.example.com", "http://pr-42.example.com", false)]
    [InlineData("https://*.example.com", "https://pr-42.example.com:8443", false)]
    [InlineData("http://*.localhost:5173", "http://app.localhost:5173", true)]
    public void The_setting_lets_in_the_pages_it_names(string? value, string page, bool allowed)
    {
        var origins = CorsOrigins.Parse(value, out var error);

        Assert.Null(error);
        Assert.NotNull(origins);
        Assert.Equal(allowed, origins.Allows(page));
    }

    [Theory]
    [InlineData("https://app.example.com/path")]
    [InlineData("app.example.com")]
    [InlineData("ftp://app.example.com")]
    [InlineData("https://app.example.com,https://x.example.com?q=1")]
    [InlineData("https://*.example.com/app")]
    public void An_entry_that_is_not_an_origin_is_refused_with_what_to_write(string value)
    {
        Assert.Null(CorsOrigins.Parse(value, out var error));
        Assert.Contains("is not an origin: write scheme://host[:port] with no path", error);
    }

    internal static HttpRequestMessage Preflight(string path, string origin, string headers = "x-goog-api-key")
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }

    internal static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}

public sealed class ListedOriginsFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["CORS_ORIGINS"] = "https://app.example.com, http://localhost:5173, https://*.preview.example.com",
    };
}

public sealed class ListedOriginsTests(ListedOriginsFrontendFixture gateway) : IClassFixture<ListedOriginsFrontendFixture>
{
    [Fact]
    public async Task A_listed_origin_is_named_back_and_any_other_gets_no_permission()
    {
        using var listed = await gateway.Client.SendAsync(CorsTests.Preflight("/v1/chat/completions", "http://localhost:5173"), TestContext.Current.CancellationToken);
        using var preview = await gateway.Client.SendAsync(CorsTests.Preflight("/v1/chat/completions", "https://pr-42.preview.example.com"),
            TestContext.Current.CancellationToken);
        using var other = await gateway.Client.SendAsync(CorsTests.Preflight("/v1/chat/completions", "https://evil.example.net"), TestContext.Current.CancellationToken);

        Assert.Equal("http://localhost:5173", CorsTests.Header(listed, "Access-Control-Allow-Origin"));
        Assert.Equal("https://pr-42.preview.example.com", CorsTests.Header(preview, "Access-Control-Allow-Origin"));
        Assert.Contains("Origin", listed.Headers.Vary); // caches must not hand one origin's answer to another
        Assert.Null(CorsTests.Header(other, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_live_session_from_a_page_the_list_leaves_out_is_refused_before_the_upgrade()
    {
        var model = FrontendFixture.NewModel();
        var refused = await Assert.ThrowsAsync<LiveRefusedException>(() => LiveTestClient.ConnectAsync(gateway, origin: "https://evil.example.net"));
        await using var allowed = await LiveTestClient.ConnectAsync(gateway, origin: "https://app.example.com");
        await allowed.SendSetupAsync(model);
        var first = await allowed.ReceiveAsync();

        Assert.Equal(403, refused.Status);
        Assert.Contains("setupComplete", first.Text);
        var upstream = Assert.Single(gateway.Upstream.Live.Sessions, s => s.Model?.EndsWith(model, StringComparison.Ordinal) == true);
        Assert.DoesNotContain(upstream.Headers.Keys, name => name.Equals("Origin", StringComparison.OrdinalIgnoreCase));
    }
}

public sealed class CorsOffFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string> { ["CORS_ORIGINS"] = "off" };
}

public sealed class CorsOffTests(CorsOffFrontendFixture gateway) : IClassFixture<CorsOffFrontendFixture>
{
    [Fact]
    public async Task Off_sends_no_cors_headers_and_a_preflight_is_not_answered()
    {
        using var preflight = await gateway.Client.SendAsync(CorsTests.Preflight("/v1beta/models/gemini-2.0-flash:generateContent", "https://app.example.com"),
            TestContext.Current.CancellationToken);
        using var call = gateway.Request(HttpMethod.Get, "/v1beta/models");
        call.Headers.Add("Origin", "https://app.example.com");
        using var answer = await gateway.Client.SendAsync(call, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, preflight.StatusCode);
        Assert.Null(CorsTests.Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.DoesNotContain(answer.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }
}
