using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace GeminiParty.FakeGemini.Tests;

public sealed class ControlApiTests
{
    private const string Key = "AIzaControlledKey";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Faults_stats_requests_and_reset_work_over_http()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var scripted = await http.PostAsJsonAsync("/_fake/faults", new { key = Key, fault = "RateLimitPerMinute", times = 1, retryDelaySeconds = 12 }, Ct);
        using var limited = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key), Ct);
        using var served = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key), Ct);
        var stats = await http.GetFromJsonAsync<JsonStats>("/_fake/stats", Ct);
        var requests = await http.GetFromJsonAsync<JsonRequest[]>("/_fake/requests", Ct) ?? [];

        Assert.Equal(HttpStatusCode.NoContent, scripted.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("12s", (await limited.ReadJsonAsync(Ct)).Detail("RetryInfo")!.Value.GetProperty("retryDelay").GetString());
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(2, stats!.PerKey[Key]);
        Assert.Equal(2, stats.Total);
        Assert.Equal(1, stats.Connections); // one kept-alive connection carried the scripted fault and both calls
        Assert.Equal([429, 200], requests.Select(r => r.Status));
        Assert.Equal(GeminiCalls.GenerateBody, Encoding.UTF8.GetString(Convert.FromBase64String(requests[0].BodyBase64)));
        Assert.Equal(Key, requests[0].Headers["x-goog-api-key"]);
        Assert.Equal(("native", "gemini-2.0-flash"), (requests[0].Surface, requests[0].Model));

        using var reset = await http.PostAsync("/_fake/reset", null, Ct);
        Assert.Equal(0, fake.CountFor(Key));
        Assert.Empty(fake.Requests);
    }

    [Fact]
    public async Task Unknown_fault_name_is_rejected()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var response = await http.PostAsJsonAsync("/_fake/faults", new { key = Key, fault = "Gremlins" }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Held_streams_are_released_over_http_and_fault_header_works_per_request()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        using var hold = await http.PostAsJsonAsync("/_fake/options", new { holdStreamsAfterFirstEvent = true }, Ct);

        var streaming = http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "streamGenerateContent", Key, query: "?alt=sse"), Ct);
        await fake.WaitUntilAsync(f => f.HeldStreams == 1, cancellationToken: Ct);
        using var release = await http.PostAsync("/_fake/release-streams", null, Ct);
        using var streamed = await streaming;
        var text = await streamed.Content.ReadAsStringAsync(Ct);

        var faulted = GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key);
        faulted.Headers.Add("x-fake-fault", "DeadlineExceeded504");
        using var timedOut = await http.SendAsync(faulted, Ct);

        Assert.Equal(HttpStatusCode.NoContent, hold.StatusCode);
        Assert.Equal(3, text.Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(HttpStatusCode.GatewayTimeout, timedOut.StatusCode);
    }

    private sealed record JsonStats(Dictionary<string, int> PerKey, int Total, int Cancelled, long Connections);

    private sealed record JsonRequest(
        string Method, string Path, string Query, string? ApiKey, string Surface, string? Model, int Status, string BodyBase64,
        Dictionary<string, string> Headers);
}
