using System.IO.Compression;
using System.Text;
using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>Headers cross the hop as a proxy's should, both ways; compressed bodies pass as they came; Server-Timing on every answer.</summary>
[Collection(FrontendCollection.Name)]
public sealed class ProxyHeadersTests(FrontendFixture gateway)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    internal static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }
        return buffer.ToArray();
    }

    [Fact]
    public async Task Client_headers_pass_upstream_except_credentials_cookies_and_hop_by_hop_ones()
    {
        var model = FrontendFixture.NewModel();
        using var request = gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent?alt=json&key={FrontendFixture.SecondToken}", FrontendAssertions.Prompt);
        request.Headers.Add("x-goog-api-key", FrontendFixture.SecondToken);
        request.Headers.Add("x-goog-api-client", "google-genai-sdk/9.9.9 gl-node/v20");
        request.Headers.UserAgent.ParseAdd("test-agent/1.0");
        request.Headers.Add("Cookie", "session=client-secret");
        request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        request.Headers.Connection.Add("x-client-hop");
        request.Headers.Add("x-client-hop", "only-for-the-next-hop");
        request.Headers.Add("Keep-Alive", "timeout=5");

        using var response = await gateway.Client.SendAsync(request, Cancel);

        Assert.Equal(200, (int)response.StatusCode);
        var recorded = gateway.Upstream.Requests.Single(r => r.Model == model);
        Assert.Equal("google-genai-sdk/9.9.9 gl-node/v20", recorded.Headers["x-goog-api-client"]);
        Assert.Contains("test-agent/1.0", recorded.Headers["User-Agent"]);
        Assert.Contains(recorded.Headers["x-goog-api-key"], FrontendFixture.Keys); // the pool key, only
        Assert.Equal("identity", recorded.Headers["Accept-Encoding"]);
        foreach (var dropped in new[] { "Authorization", "Cookie", "traceparent", "x-client-hop", "Keep-Alive" })
        {
            Assert.False(recorded.Headers.ContainsKey(dropped), $"{dropped} crossed the hop");
        }
        Assert.Equal("?alt=json", recorded.QueryString);
        Assert.DoesNotContain(recorded.Headers, h => h.Value.Contains(FrontendFixture.Token) || h.Value.Contains(FrontendFixture.SecondToken));
    }

    [Fact]
    public async Task The_OpenAi_surface_sends_the_pool_key_as_a_bearer_and_never_the_clients_goog_key()
    {
        var model = FrontendFixture.NewModel();
        using var request = gateway.Request(HttpMethod.Post, "/v1/chat/completions",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""", token: null);
        request.Headers.Add("x-goog-api-key", FrontendFixture.Token);

        using var response = await gateway.Client.SendAsync(request, Cancel);

        Assert.Equal(200, (int)response.StatusCode);
        var recorded = gateway.Upstream.Requests.Single(r => r.Model == model);
        Assert.StartsWith("Bearer AIzaSyFrontendKey", recorded.Headers["Authorization"]);
        Assert.False(recorded.Headers.ContainsKey("x-goog-api-key"));
    }

    [Fact]
    public async Task Upstream_headers_come_back_except_cookies_and_hop_by_hop_ones_with_the_hops_server_timing()
    {
        var model = FrontendFixture.NewModel();
        using var request = gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        request.Headers.Add("x-fake-extra-response-headers", "1");

        using var response = await gateway.Client.SendAsync(request, Cancel);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("fake-trace-1", response.Headers.GetValues("x-goog-fake-trace").Single());
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.False(response.Headers.Contains("x-fake-hop"));
        var timing = string.Join(", ", response.Headers.GetValues("Server-Timing"));
        Assert.Contains("fake-model;dur=12.5", timing); // upstream's own
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(timing, @"gateway;dur=\d+\.\d"), timing);
        Assert.Matches(@"upstream;dur=\d+\.\d", timing);
    }

    [Fact]
    public async Task An_answer_the_gateway_makes_itself_carries_server_timing_too()
    {
        using var response = await gateway.PostJsonAsync("/v1beta/models/gemini-2.0-flash:generateContent", FrontendAssertions.Prompt, token: null);
        Assert.Equal(401, (int)response.StatusCode);
        Assert.Matches(@"^gateway;dur=\d+\.\d$", response.Headers.GetValues("Server-Timing").Single());
    }

    [Fact]
    public async Task A_gzip_body_reaches_upstream_as_it_came_with_its_header_and_the_model_is_read_from_a_decoded_copy()
    {
        var model = FrontendFixture.NewModel();
        var compressed = Gzip($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""");
        using var request = gateway.Request(HttpMethod.Post, "/v1/chat/completions");
        request.Content = new ByteArrayContent(compressed);
        request.Content.Headers.ContentType = new("application/json");
        request.Content.Headers.ContentEncoding.Add("gzip");

        using var response = await gateway.Client.SendAsync(request, Cancel);

        Assert.Equal(200, (int)response.StatusCode);
        var recorded = gateway.Upstream.Requests.Single(r => r.Model == model);
        Assert.Equal(compressed, recorded.Body);
        Assert.Equal("gzip", recorded.Headers["Content-Encoding"]);
        Assert.Equal(compressed.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), recorded.Headers["Content-Length"]);
    }

    [Fact]
    public async Task A_native_gzip_body_passes_through_untouched_when_nothing_must_be_merged()
    {
        var model = FrontendFixture.NewModel();
        var compressed = Gzip(FrontendAssertions.Prompt);
        using var request = gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent");
        request.Content = new ByteArrayContent(compressed);
        request.Content.Headers.ContentType = new("application/json");
        request.Content.Headers.ContentEncoding.Add("gzip");

        using var response = await gateway.Client.SendAsync(request, Cancel);

        Assert.Equal(200, (int)response.StatusCode);
        var recorded = gateway.Upstream.Requests.Single(r => r.Model == model);
        Assert.Equal(compressed, recorded.Body);
        Assert.Equal("gzip", recorded.Headers["Content-Encoding"]);
    }
}
