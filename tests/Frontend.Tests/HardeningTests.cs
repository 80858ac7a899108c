using System.Net;
using System.Text;
using System.Text.Json;
using GeminiParty.FakeGemini;
using GeminiParty.Frontend.Forwarding;
using Microsoft.Extensions.DependencyInjection;

namespace GeminiParty.Frontend.Tests;

public sealed class SmallBodyFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string> { ["MAX_REQUEST_BODY_MB"] = "1" };
}

/// <summary>Whatever arrives, the answer is a clear JSON error, nothing bad goes upstream, and the process keeps serving.</summary>
public sealed class HardeningTests(SmallBodyFrontendFixture gateway) : IClassFixture<SmallBodyFrontendFixture>
{
    [Fact]
    public async Task Unknown_routes_and_wrong_methods_get_JSON_errors()
    {
        using var unknown = await gateway.GetAsync("/v2/whatever");
        await unknown.AssertGoogleErrorAsync(404);

        // every method on an OpenAI path goes upstream (which answers for it); the native model routes are the gateway's
        using var wrongMethod = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Delete, "/v1beta/models/gemini-2.0-flash:generateContent"), TestContext.Current.CancellationToken);
        await wrongMethod.AssertGoogleErrorAsync(405);

        // the Prometheus endpoint is a scrape, GET only, like the gateway's other own routes
        using var metricsDelete = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Delete, "/metrics"), TestContext.Current.CancellationToken);
        await metricsDelete.AssertGoogleErrorAsync(405);

        // the native API under /v1 answers its route errors in Google's shape too, though /v1 also holds OpenAI's paths
        using var nativeOnV1 = await gateway.GetAsync("/v1/models/gemini-2.0-flash:generateContent");
        await nativeOnV1.AssertGoogleErrorAsync(405);
    }

    [Fact]
    public async Task An_OpenAI_body_of_a_type_the_gateway_does_not_read_is_refused_naming_its_content_type()
    {
        // curl -d sends application/x-www-form-urlencoded: the JSON inside is not read, so the model seemed missing
        using var request = gateway.Request(HttpMethod.Post, "/v1/chat/completions");
        request.Content = new StringContent("""{"model":"gemini-2.0-flash","messages":[{"role":"user","content":"Hi"}]}""",
            System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(400, (int)response.StatusCode);
        var message = (await response.ReadJsonAsync()).GetProperty("error").GetProperty("message").GetString();
        Assert.Contains("application/x-www-form-urlencoded", message);
        Assert.Contains("Content-Type: application/json", message);
    }

    [Theory]
    [InlineData("POST", "/v1beta/models/", "error.code")]
    [InlineData("GET", "/v1", "error.type")]
    [InlineData("POST", "/v1/", "error.type")]
    [InlineData("GET", "/v1beta/openai/", "error.type")]
    [InlineData("PUT", "/upload/", "error.code")]
    public async Task A_route_whose_path_part_is_empty_is_a_404_naming_the_path_in_the_surfaces_shape(string method, string path, string shape)
    {
        // a catch-all route with nothing in it once failed parameter binding: a bare 400 that said nothing
        using var response = await gateway.Client.SendAsync(gateway.Request(new HttpMethod(method), path, method == "GET" ? null : "{}"),
            TestContext.Current.CancellationToken);
        var error = (await response.ReadJsonAsync()).GetProperty("error");
        Assert.True(404 == (int)response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {error}");
        Assert.True(error.TryGetProperty(shape.Split('.')[1], out _), $"{path}: {error}");
        Assert.Contains($"No route for {method} {path}", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Made_up_model_names_get_upstreams_404_and_leave_no_trace_in_status_metrics_or_leases()
    {
        const int names = 150;
        var initially = await gateway.RotationStatusAsync();
        var before = Requests(initially, KnownModels.Unknown);
        var prefix = $"unknown-{Guid.NewGuid():N}"[..16]; // the fake, like Google, knows no such model
        for (var i = 0; i < names; i++)
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{prefix}-{i}:generateContent", FrontendAssertions.Prompt);
            await response.AssertGoogleErrorAsync(404);
        }
        var served = FrontendFixture.NewModel();
        using (var ok = await gateway.PostJsonAsync($"/v1beta/models/{served}:generateContent", FrontendAssertions.Prompt))
        {
            Assert.Equal(200, (int)ok.StatusCode);
        }

        var status = await gateway.RotationStatusWhenAsync(s => Models(s).Contains(served)
            && Requests(s, KnownModels.Unknown) - before >= names);
        Assert.Equal(names, Requests(status, KnownModels.Unknown) - before); // every attempt counted, together
        Assert.DoesNotContain(Models(status), name => name.StartsWith(prefix, StringComparison.Ordinal));
        Assert.Subset(Blame(initially), Blame(status)); // no key blamed: no cooldown or invalid mark that was not there before
        using var metrics = await gateway.GetAsync("/metrics");
        var scrape = await metrics.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain(prefix, scrape);
        Assert.Contains($"model=\"{served}\"", scrape);
        var leaseEntries = gateway.Services.GetRequiredService<KeyLeases>().Models.Count(name => name.StartsWith(prefix, StringComparison.Ordinal));
        Assert.InRange(leaseEntries, 1, KnownModels.MaxUnknownTracked); // not one per name: idle ones are forgotten

        static string[] Models(JsonElement s) =>
            [.. s.GetProperty("data").GetProperty("modelStats").EnumerateArray().Select(m => m.GetProperty("name").GetString()!)];
        static HashSet<string> Blame(JsonElement s) =>
        [
            .. s.GetProperty("data").GetProperty("keys").EnumerateArray().SelectMany(k =>
                k.GetProperty("cooldowns").EnumerateArray().Select(c => $"{k.GetProperty("index")} cooling for {c.GetProperty("model")}")
                    .Append(k.GetProperty("invalid").ValueKind == JsonValueKind.Null ? "" : $"{k.GetProperty("index")} invalid")),
        ];
        static long Requests(JsonElement s, string model) =>
            s.GetProperty("data").GetProperty("modelStats").EnumerateArray().Where(m => m.GetProperty("name").GetString() == model)
                .Select(m => m.GetProperty("lifetime").GetProperty("requests").GetInt64()).SingleOrDefault();
    }

    [Fact]
    public async Task A_client_that_stops_sending_its_body_is_cut_off_and_nothing_goes_upstream()
    {
        var model = FrontendFixture.NewModel();
        using var socket = await StartBodyAsync(model);
        var stream = socket.GetStream();
        var started = DateTime.UtcNow;

        // then silence: below 240 bytes/s after a 10 s grace period, the gateway stops waiting for the body
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        int read;
        while ((read = await stream.ReadAsync(buffer, deadline.Token)) > 0)
        {
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        var waited = DateTime.UtcNow - started;

        Assert.InRange(waited, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(25)); // cut off after the grace period, not held open
        Assert.StartsWith("HTTP/1.1 408", answer.ToString()); // a JSON error in Google's shape, not a 500
        Assert.Contains("\"error\"", answer.ToString());
        Assert.Contains("too slowly", answer.ToString());
        Assert.DoesNotContain(gateway.Upstream.Requests, r => r.Model == model);
        using var next = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        Assert.Equal(200, (int)next.StatusCode); // and it keeps serving
    }

    [Fact]
    public async Task A_client_that_hangs_up_halfway_through_its_body_is_no_error_and_nothing_goes_upstream()
    {
        var model = FrontendFixture.NewModel();
        using (await StartBodyAsync(model))
        {
            await Task.Delay(200, TestContext.Current.CancellationToken); // the gateway is reading the body now
        }

        using var next = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        Assert.Equal(200, (int)next.StatusCode); // keeps serving
        Assert.Single(gateway.Upstream.Requests, r => r.Model == model); // only the second request went upstream
        await Task.Delay(200, TestContext.Current.CancellationToken);
        // a client hanging up is not the gateway's failure: no error or unhandled-exception line about it
        Assert.DoesNotContain(gateway.Logs.Lines, line => line.StartsWith("Error", StringComparison.Ordinal) || line.StartsWith("Critical", StringComparison.Ordinal));
    }

    /// <summary>Bodies the gateway must read (for the model, or to find a resource) and cannot: each is its own exception inside .NET.</summary>
    public static TheoryData<string, string, string?, string> UnreadableBodies => new()
    {
        // path, Content-Type, Content-Encoding, body
        { "/v1/chat/completions", "application/json", "br", """{"model":"gemini-2.0-flash"}""" }, // not Brotli
        { "/v1beta/interactions", "application/json", "gzip", """{"model":"gemini-2.0-flash"}""" }, // not gzip
        { "/v1beta/interactions", "application/json", "zstd", """{"model":"gemini-2.0-flash"}""" },
        { "/v1/audio/transcriptions", "multipart/form-data; boundary=b", null,
            "--b\r\nContent-Disposition: form-data; name=\"model\"\r\nX-Pad: " + new string('a', 20_000) + "\r\n\r\ngemini-2.0-flash\r\n--b--\r\n" },
        { "/v1/audio/transcriptions", "multipart/form-data; boundary=b", null, "--b\r\nno colon in this header\r\n\r\nx\r\n--b--\r\n" },
        { "/v1/audio/transcriptions", "multipart/form-data; boundary=" + new string('b', 5000), null, "--" + new string('b', 5000) + "--\r\n" }, // longer than the reader's buffer
    };

    [Theory]
    [MemberData(nameof(UnreadableBodies))]
    public async Task A_body_the_gateway_cannot_read_is_400_in_the_surfaces_shape_and_never_forwarded(string path, string contentType, string? encoding, string body)
    {
        var before = gateway.Upstream.TotalRequests;
        using var request = gateway.Request(HttpMethod.Post, path);
        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (encoding is not null)
        {
            request.Content.Headers.ContentEncoding.Add(encoding);
        }

        using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);

        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(400 == (int)response.StatusCode, text);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(path.StartsWith("/v1/", StringComparison.Ordinal) ? "invalid_request_error" : "INVALID_ARGUMENT",
            error.GetProperty(path.StartsWith("/v1/", StringComparison.Ordinal) ? "type" : "status").GetString());
        Assert.Equal(before, gateway.Upstream.TotalRequests);
        Assert.DoesNotContain(gateway.Logs.Lines, line => line.Contains("Unhandled", StringComparison.Ordinal));
    }

    /// <summary>
    /// An upload's chunk streams through to its owner key as it arrives, so a body that breaks partway is found only
    /// once that key's call has begun: still the client's mistake, answered 400, and never a failure of the key.
    /// </summary>
    [Fact]
    public async Task An_upload_chunk_whose_body_is_malformed_partway_is_400_and_blames_no_key()
    {
        const int transientLimit = 5; // KEY_TRANSIENT_LIMIT's default: that many failures in a row bench a key
        var uploads = new List<string>();
        for (var i = 0; i < transientLimit * FrontendFixture.Keys.Length; i++) // uploads rotate: every key owns five
        {
            using var start = gateway.Request(HttpMethod.Post, "/upload/v1beta/files", """{"file":{"displayName":"broken"}}""");
            start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
            start.Headers.Add("X-Goog-Upload-Command", "start");
            using var started = await gateway.Client.SendAsync(start, TestContext.Current.CancellationToken);
            Assert.Equal(200, (int)started.StatusCode);
            uploads.Add(new Uri(started.Headers.GetValues("x-goog-upload-url").Single()).PathAndQuery);
        }

        foreach (var upload in uploads)
        {
            using var socket = new System.Net.Sockets.TcpClient();
            await socket.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port, TestContext.Current.CancellationToken);
            var request = $"POST {upload} HTTP/1.1\r\nHost: {gateway.BaseAddress.Authority}\r\nAuthorization: Bearer {FrontendFixture.Token}\r\n" +
                          "X-Goog-Upload-Command: upload, finalize\r\nX-Goog-Upload-Offset: 0\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                          "5\r\n01234\r\nzz\r\n56789\r\n0\r\n\r\n"; // the second chunk's size is not hex
            await socket.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request), TestContext.Current.CancellationToken);
            var answer = await new StreamReader(socket.GetStream()).ReadToEndAsync(TestContext.Current.CancellationToken);

            Assert.StartsWith("HTTP/1.1 400", answer);
            Assert.Contains("\"INVALID_ARGUMENT\"", answer);
        }

        var status = await gateway.RotationStatusWhenAsync(s => UploadAttempts(s) >= 2 * uploads.Count);
        Assert.Equal(2 * uploads.Count, UploadAttempts(status)); // each start and each chunk tried once, on its owner only
        for (var key = 0; key < FrontendFixture.Keys.Length; key++)
        {
            Assert.DoesNotContain(status.KeyStatus(key).GetProperty("cooldowns").EnumerateArray(), c => c.GetProperty("model").GetString() == "files");
        }

        static long UploadAttempts(JsonElement s) =>
            s.GetProperty("data").GetProperty("modelStats").EnumerateArray().Where(m => m.GetProperty("name").GetString() == "files")
                .Select(m => m.GetProperty("lifetime").GetProperty("requests").GetInt64()).SingleOrDefault();
    }

    /// <summary>A raw connection that has sent a request's headers (100,000 bytes of body announced) and 13 bytes of it.</summary>
    private async Task<System.Net.Sockets.TcpClient> StartBodyAsync(string model)
    {
        var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port, TestContext.Current.CancellationToken);
        var head = $"POST /v1beta/models/{model}:generateContent HTTP/1.1\r\nHost: {gateway.BaseAddress.Authority}\r\n" +
                   $"Authorization: Bearer {FrontendFixture.Token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n" +
                   "{\"contents\":[";
        await socket.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head), TestContext.Current.CancellationToken);
        return socket;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_over_the_limit_is_413_and_never_forwarded(bool declareLength)
    {
        var model = FrontendFixture.NewModel();
        var big = "{\"contents\":[{\"parts\":[{\"text\":\"" + new string('x', 1_100_000) + "\"}]}]}";
        using var request = gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", null);
        request.Content = declareLength
            ? new StringContent(big, Encoding.UTF8, "application/json")
            : new PushStreamContentWithoutLength(Encoding.UTF8.GetBytes(big));
        // as curl does for large bodies: the gateway's 413 arrives before the body is sent. Without it, the server
        // closing a connection whose upload it refused races the client's write (a reset instead of the answer).
        request.Headers.ExpectContinue = declareLength;

        using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);

        await response.AssertGoogleErrorAsync(413);
        Assert.DoesNotContain(gateway.Upstream.Requests, r => r.Model == model);
        using var health = await gateway.GetAsync("/healthz", token: null);
        Assert.Equal(200, (int)health.StatusCode);
    }

    [Fact]
    public async Task A_body_just_under_the_limit_goes_through_intact()
    {
        var model = FrontendFixture.NewModel();
        var body = "{\"contents\":[{\"parts\":[{\"text\":\"" + new string('y', 1_000_000) + "\"}]}]}";
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", body);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(Encoding.UTF8.GetByteCount(body), gateway.Upstream.Requests.Single(r => r.Model == model).Body.Length);
    }

    [Fact]
    public async Task Hundreds_of_concurrent_requests_are_all_answered_and_spread_evenly()
    {
        var model = FrontendFixture.NewModel();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 300 }) { BaseAddress = gateway.BaseAddress };
        var calls = Enumerable.Range(0, 300).Select(async _ =>
        {
            using var response = await client.SendAsync(
                gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt), TestContext.Current.CancellationToken);
            return response.StatusCode;
        });

        var statuses = await Task.WhenAll(calls);

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        var perKey = gateway.KeysSeenFor(model).CountBy(k => k).Select(pair => pair.Value).ToArray();
        Assert.Equal(300, perKey.Sum());
        Assert.InRange(perKey.Max() - perKey.Min(), 0, 1); // even over the keys still usable (another test may have retired one)
    }

    /// <summary>A busy mix of successes, every failure class and bad input, then a scan of everything the product said.</summary>
    [Fact]
    public async Task No_upstream_key_appears_in_any_response_header_or_log_line()
    {
        var responses = new List<string>();
        async Task Send(HttpRequestMessage request)
        {
            using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);
            responses.Add(response.Headers + "\n" + response.Content.Headers + "\n" + await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        FakeFault[] faults =
        [
            FakeFault.RateLimitPerMinute(5), FakeFault.QuotaPerDay(), FakeFault.Suspended, FakeFault.Internal500, FakeFault.Overloaded503,
            FakeFault.DeadlineExceeded504, FakeFault.BadRequest400, FakeFault.ConnectionReset, FakeFault.NonJson, FakeFault.Truncated,
            FakeFault.MidStreamFailure, FakeFault.ArrayWrappedError(403),
        ];
        foreach (var fault in faults)
        {
            var model = FrontendFixture.NewModel();
            gateway.Upstream.SetFault(FrontendFixture.Keys[0], fault, times: 1);
            await Send(gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt));
            gateway.Upstream.SetFault(FrontendFixture.Keys[0], fault, times: 1);
            await Send(gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt));
            gateway.Upstream.SetFault(FrontendFixture.Keys[0], fault, times: 1);
            await Send(gateway.Request(HttpMethod.Post, "/v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}"""));
            gateway.Upstream.ClearFaults();
        }
        await Send(gateway.Request(HttpMethod.Post, "/v1/chat/completions", "{not json"));
        await Send(gateway.Request(HttpMethod.Post, "/v1beta/models/..%2F:generateContent", "{}"));
        await Send(gateway.Request(HttpMethod.Get, "/rotation-status", null));
        await Send(gateway.Request(HttpMethod.Get, "/v1beta/models?key=" + FrontendFixture.Token, null, token: null));

        Assert.NotEmpty(gateway.Logs.Lines);
        foreach (var text in responses.Concat(gateway.Logs.Lines))
        {
            FrontendAssertions.AssertNoUpstreamKey(text);
            Assert.DoesNotContain(FrontendFixture.Token, text); // client tokens are not logged or echoed either
        }
        Assert.All(gateway.Upstream.Requests, r => Assert.Contains(r.ApiKey, FrontendFixture.Keys));
    }

    /// <summary>Sends a body with chunked transfer encoding, so the server cannot reject it by Content-Length.</summary>
    private sealed class PushStreamContentWithoutLength(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
