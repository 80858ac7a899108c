using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using GeminiParty.FakeGemini;
using GeminiParty.Frontend.Observability;

namespace GeminiParty.Frontend.Tests;

public sealed class OneKeyFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["GEMINI_API_KEY"] = Keys[0],
    };
}

/// <summary>The retry loop's edges: a pool of one key, daily quotas as the last answer, a client that leaves mid-retry.</summary>
public sealed class RetryEdgeTests(OneKeyFrontendFixture gateway) : IClassFixture<OneKeyFrontendFixture>, IDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose() => gateway.Upstream.ClearFaults();

    [Fact]
    public async Task A_one_key_pool_retries_a_transient_5xx_on_the_same_key_after_the_backoff()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(FrontendFixture.Keys[0], FakeFault.Overloaded503, times: 1);

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal([0, 0], gateway.KeysSeenFor(model));
    }

    [Fact]
    public async Task A_daily_quota_429_as_the_last_answer_says_to_come_back_at_the_Pacific_midnight()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(FrontendFixture.Keys[0], FakeFault.QuotaPerDay(), times: 1);

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);

        await response.AssertGoogleErrorAsync(429);
        var pacific = TimeZoneInfo.FindSystemTimeZoneById("America/Los_Angeles");
        var local = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, pacific);
        var midnight = new DateTimeOffset(local.Date.AddDays(1), pacific.GetUtcOffset(local.Date.AddDays(1)));
        var expected = (midnight - DateTimeOffset.UtcNow).TotalSeconds;
        Assert.InRange(response.Headers.RetryAfter?.Delta?.TotalSeconds ?? -1, expected - 60, expected + 60);
    }

    [Fact]
    public async Task A_client_that_leaves_during_the_backoff_still_gets_its_log_line_and_no_500()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(FrontendFixture.Keys[0], FakeFault.Overloaded503, times: 1);
        gateway.Upstream.Options.Latency = TimeSpan.FromMilliseconds(300); // the second attempt waits: the client leaves before it
        try
        {
            using var leave = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
            var pending = gateway.Client.SendAsync(
                gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt), leave.Token);
            await gateway.Upstream.WaitUntilAsync(u => u.Requests.Any(r => r.Model == model), cancellationToken: Cancel);
            leave.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);

            for (var waited = 0; !Lines().Any() && waited < 5000; waited += 20)
            {
                await Task.Delay(20, Cancel);
            }
            var line = Assert.Single(Lines());
            Assert.Contains("-> 499", line);
            Assert.DoesNotContain(gateway.Logs.Lines, l => l.Contains("GeminiParty.Frontend.Errors"));
        }
        finally
        {
            gateway.Upstream.Options.Latency = TimeSpan.Zero;
        }

        string[] Lines() => gateway.Logs.Lines.Where(l => l.Contains($" {RequestLog.Category} ") && l.Contains(model)).ToArray();
    }

    [Fact]
    public async Task A_client_that_leaves_while_upstream_thinks_is_logged_and_counted_as_499_not_as_a_bad_request()
    {
        var model = FrontendFixture.NewModel();
        var closedBefore = await RequestsWithStatusAsync(499);
        var totalsBefore = await PoolTotalsAsync();
        gateway.Upstream.SetFault(FrontendFixture.Keys[0], FakeFault.Hang, times: 1); // no answer until the client gives up
        var arrivedBefore = gateway.Upstream.CountFor(FrontendFixture.Keys[0]);
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(Cancel);

        var pending = gateway.Client.SendAsync(
            gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt), leave.Token);
        await gateway.Upstream.WaitUntilAsync(u => u.CountFor(FrontendFixture.Keys[0]) > arrivedBefore, cancellationToken: Cancel);
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);

        for (var waited = 0; !Lines().Any() && waited < 5000; waited += 20)
        {
            await Task.Delay(20, Cancel);
        }
        Assert.Contains("attempts 1 -> 499", Assert.Single(Lines()));
        await ClientsFrontendFixture.EventuallyAsync(async () => await RequestsWithStatusAsync(499) == closedBefore + 1,
            "/metrics counts the request under status 499"); // the exporter may answer from its cache for a moment
        // the key's attempt counts as closed by the client, not as a client error: nothing was wrong with the request
        await ClientsFrontendFixture.EventuallyAsync(async () => (await PoolTotalsAsync()).ClientClosed == totalsBefore.ClientClosed + 1,
            "/rotation-status counts the attempt as closed by the client");
        Assert.Equal(totalsBefore.ClientErrors, (await PoolTotalsAsync()).ClientErrors);
        Assert.DoesNotContain(gateway.Logs.Lines, l => l.Contains("GeminiParty.Frontend.Errors"));

        string[] Lines() => gateway.Logs.Lines.Where(l => l.Contains($" {RequestLog.Category} ") && l.Contains(model)).ToArray();
    }

    [Fact]
    public async Task Bytes_out_in_the_request_log_is_what_the_client_got_for_an_answer_the_gateway_wrote()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(FrontendFixture.Keys[0], FakeFault.RateLimitPerMinute(60), times: 1);
        using (var first = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt))
        {
            Assert.Equal(429, (int)first.StatusCode);
        }

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt); // the one key cools
        Assert.Equal(429, (int)response.StatusCode);
        var length = (await response.Content.ReadAsByteArrayAsync(Cancel)).Length;

        for (var waited = 0; Lines().Length < 2 && waited < 5000; waited += 20)
        {
            await Task.Delay(20, Cancel);
        }
        Assert.Contains(Lines(), l => l.Contains("attempts 0 -> 429") && l.Contains($", {length} B out"));

        string[] Lines() => gateway.Logs.Lines.Where(l => l.Contains($" {RequestLog.Category} ") && l.Contains(model)).ToArray();
    }

    /// <summary>The pool's lifetime totals from /rotation-status: attempts closed by their client, and client errors.</summary>
    private async Task<(long ClientClosed, long ClientErrors)> PoolTotalsAsync()
    {
        using var response = await gateway.GetAsync("/rotation-status");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));
        var totals = json.RootElement.GetProperty("data").GetProperty("summary").GetProperty("totals");
        return (totals.GetProperty("clientClosed").GetInt64(), totals.GetProperty("failures").GetProperty("clientErrors").GetInt64());
    }

    /// <summary>gemini_party_requests_total summed over every series with this status.</summary>
    private async Task<double> RequestsWithStatusAsync(int status)
    {
        using var metrics = await gateway.GetAsync("/metrics");
        var text = await metrics.Content.ReadAsStringAsync(Cancel);
        return Regex.Matches(text, $$"""^gemini_party_requests_total\{[^}]*status="{{status}}"[^}]*\} (\S+)""", RegexOptions.Multiline)
            .Sum(match => double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
    }
}
