using System.Net;

namespace GeminiParty.FakeGemini.Tests;

public sealed class FaultTests
{
    private const string Key = "AIzaFaultyKey";
    private const string OtherKey = "AIzaHealthyKey";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scripted_rate_limit_carries_quota_failure_and_retry_info()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        fake.SetFault(Key, FakeFault.RateLimitPerMinute(retryDelaySeconds: 30), times: 1);

        using var response = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key), Ct);
        var body = await response.ReadJsonAsync(Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(429, body.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("RESOURCE_EXHAUSTED", body.GetProperty("error").GetProperty("status").GetString());
        var violation = body.Detail("QuotaFailure")!.Value.GetProperty("violations")[0];
        Assert.Contains("PerMinute", violation.GetProperty("quotaId").GetString());
        Assert.Equal("gemini-2.0-flash", violation.GetProperty("quotaDimensions").GetProperty("model").GetString());
        Assert.Equal("30s", body.Detail("RetryInfo")!.Value.GetProperty("retryDelay").GetString());
    }

    [Fact]
    public async Task Daily_quota_without_delay_has_per_day_quota_and_no_retry_info()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        fake.SetFault(Key, FakeFault.QuotaPerDay());

        using var response = await http.SendAsync(GeminiCalls.Native("gemini-2.5-pro", "generateContent", Key), Ct);
        var body = await response.ReadJsonAsync(Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Contains("PerDay", body.Detail("QuotaFailure")!.Value.GetProperty("violations")[0].GetProperty("quotaId").GetString());
        Assert.Null(body.Detail("RetryInfo"));
    }

    [Fact]
    public async Task Fault_fires_the_scripted_number_of_times_then_stops_and_spares_other_keys()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        fake.SetFault(Key, FakeFault.Overloaded503, times: 2);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key), Ct);
            statuses.Add(response.StatusCode);
        }

        using var other = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", OtherKey), Ct);

        Assert.Equal([HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK], statuses);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(3, fake.CountFor(Key));
        Assert.Equal([503, 503, 200, 200], fake.Requests.Select(r => r.Status));
    }

    [Fact]
    public async Task Suspension_names_the_key_as_google_does()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        fake.SetFault(Key, FakeFault.Suspended);

        using var response = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key), Ct);
        var error = (await response.ReadJsonAsync(Ct)).GetProperty("error");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal($"Consumer 'api_key:{Key}' has been suspended.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Connection_reset_fails_the_client_before_any_response()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        fake.SetFault(Key, FakeFault.ConnectionReset, times: 1);

        await Assert.ThrowsAsync<HttpRequestException>(() => http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key), Ct));

        await fake.WaitUntilAsync(f => f.Requests.Count == 1, cancellationToken: Ct);
        Assert.Equal(0, fake.Requests[0].Status);
    }

    [Fact]
    public async Task Hang_lasts_until_the_client_gives_up_and_is_counted_as_cancelled()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        fake.SetFault(Key, FakeFault.Hang);
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        giveUp.CancelAfter(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key), giveUp.Token));

        await fake.WaitUntilAsync(f => f.CancelledRequests == 1, cancellationToken: Ct);
        Assert.Equal(499, Assert.Single(fake.Requests).Status);
    }

    [Fact]
    public async Task Disposing_the_server_ends_hanging_requests_at_once()
    {
        var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        fake.SetFault(Key, FakeFault.Hang);
        var hanging = http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key), Ct);
        await fake.WaitUntilAsync(f => f.TotalRequests == 1, cancellationToken: Ct);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await fake.DisposeAsync();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"dispose took {clock.Elapsed}");
        await Assert.ThrowsAsync<HttpRequestException>(() => hanging);
    }

    [Fact]
    public async Task Mid_stream_failure_sends_two_events_then_breaks_the_connection()
    {
        await using var fake = await FakeGeminiServer.StartAsync(new FakeGeminiOptions { StreamEvents = 5 }, Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        fake.SetFault(Key, FakeFault.MidStreamFailure, times: 1);

        using var response = await http.SendAsync(
            GeminiCalls.Native("gemini-2.0-flash", "streamGenerateContent", Key, query: "?alt=sse"), HttpCompletionOption.ResponseHeadersRead, Ct);
        var events = new EventReader(await response.Content.ReadAsStreamAsync(Ct), "\r\n\r\n");
        var received = new List<string>();

        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            while (await events.ReadAsync(Ct) is { } next)
            {
                received.Add(next);
            }
        });
        Assert.Equal(2, received.Count);
    }

    [Fact]
    public async Task Truncated_and_non_json_answers_break_parsers()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        fake.SetFault(Key, FakeFault.NonJson, times: 1);

        using var html = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key), Ct);
        fake.SetFault(Key, FakeFault.Truncated, times: 1);
        using var truncated = await http.SendAsync(
            GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key), HttpCompletionOption.ResponseHeadersRead, Ct);

        Assert.Equal(HttpStatusCode.BadGateway, html.StatusCode);
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, truncated.StatusCode);
        await Assert.ThrowsAnyAsync<Exception>(() => truncated.Content.ReadAsStringAsync(Ct));
    }
}
