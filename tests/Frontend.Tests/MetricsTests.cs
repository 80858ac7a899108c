using System.Globalization;
using System.Text.RegularExpressions;
using GeminiParty.FakeGemini;
using GeminiParty.Frontend.Forwarding;
using Microsoft.Extensions.DependencyInjection;

namespace GeminiParty.Frontend.Tests;

/// <summary>/metrics: Prometheus text from OpenTelemetry, counting what the gateway did.</summary>
[Collection(FrontendCollection.Name)]
public sealed partial class MetricsTests(FrontendFixture gateway) : IDisposable
{
    public void Dispose() => gateway.Upstream.ClearFaults();

    [Fact]
    public async Task Metrics_need_a_client_token()
    {
        using var response = await gateway.GetAsync("/metrics", token: null);
        await response.AssertGoogleErrorAsync(401);
    }

    [Fact]
    public async Task A_scrape_after_traffic_counts_requests_attempts_retries_cooldowns_tokens_and_usable_keys()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(FrontendFixture.Keys[0], FakeFault.RateLimitPerMinute(retryDelaySeconds: 120), times: 1);
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
            Assert.Equal(200, (int)response.StatusCode);
        }
        using (var stream = await gateway.PostJsonAsync($"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt))
        {
            await stream.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        }
        // successes reach the pool in batches, off the request path: wait until all four have arrived
        long tokensInStatus = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline; await Task.Delay(50, TestContext.Current.CancellationToken))
        {
            var lifetime = (await gateway.RotationStatusAsync()).GetProperty("data").GetProperty("modelStats").EnumerateArray()
                .Single(m => m.GetProperty("name").GetString() == model).GetProperty("lifetime");
            if (lifetime.GetProperty("successes").GetInt64() == 4)
            {
                tokensInStatus = lifetime.GetProperty("tokens").GetProperty("total").GetInt64();
                break;
            }
        }

        // the exporter caches a scrape for 300 ms and the gauges for a few seconds: wait for this traffic to show
        var after = await ScrapeUntilAsync(m => m.Sum("gemini_party_requests_total", ("model", model)) == 4
                                              && m.Sum("gemini_party_keys_usable", ("model", model)) == 2);

        Assert.Equal(4, after.Sum("gemini_party_requests_total", ("model", model), ("route", "native"), ("status", "200")));
        Assert.Equal(4, after.Sum("gemini_party_request_duration_seconds_count", ("model", model)));
        Assert.Equal(1, after.Sum("gemini_party_retries_total", ("model", model), ("reason", "rate_limited")));
        Assert.Equal(1, after.Sum("gemini_party_cooldowns_total", ("model", model), ("key", "0"), ("reason", "rate_limited")));
        Assert.Equal(2, after.Sum("gemini_party_keys_usable", ("model", model)));
        Assert.Equal(1, after.Sum("gemini_party_upstream_attempts_total", ("model", model), ("key", "0"), ("outcome", "rate_limited")));
        Assert.Equal(4, after.Sum("gemini_party_upstream_attempts_total", ("model", model), ("outcome", "success")));
        Assert.Equal(5, after.Sum("gemini_party_upstream_attempts_total", ("model", model)));
        Assert.True(tokensInStatus > 0);
        Assert.Equal(tokensInStatus, after.Sum("gemini_party_tokens_total", ("model", model), ("type", "total")));
        Assert.True(after.Sum("gemini_party_upstream_duration_seconds_count", ("model", model), ("status_class", "4xx")) >= 1);

        Assert.Contains(after.Names, name => name.StartsWith("orleans_", StringComparison.Ordinal)); // Orleans' own meter
        Assert.Contains("http_server_request_duration_seconds_count", after.Names);                 // ASP.NET Core's
        Assert.Contains("http_client_open_connections", after.Names);                               // HttpClient's connections
        Assert.DoesNotContain(after.Names, name => name.StartsWith("http_client_request", StringComparison.Ordinal)
                                                 || name.StartsWith("http_client_active_requests", StringComparison.Ordinal)); // per-call duplicates of ours: not recorded
        Assert.DoesNotContain(after.Names, name => name.Contains("metrics", StringComparison.Ordinal));
        FrontendAssertions.AssertNoUpstreamKey(after.Text);
        Assert.DoesNotContain(FrontendFixture.Token, after.Text);
    }

    [Fact]
    public async Task Live_resources_show_per_key_and_collection()
    {
        var (file, _) = await gateway.UploadAsync(System.Text.Encoding.UTF8.GetBytes("metered"), 4096);
        var name = file.GetProperty("name").GetString()!;
        using (var get = await gateway.GetAsync("/v1beta/" + name))
        {
            Assert.Equal(200, (int)get.StatusCode);
        }
        var owner = Array.IndexOf(FrontendFixture.Keys, gateway.Upstream.Requests.Last(r => r.Path == "/v1beta/" + name).ApiKey).ToString(CultureInfo.InvariantCulture);
        var files = (await gateway.RotationStatusAsync()).KeyStatus(int.Parse(owner, CultureInfo.InvariantCulture))
            .GetProperty("resources").GetProperty("files").GetInt32();

        // the gauges read a pool status of at most a few seconds ago
        var scrape = await ScrapeUntilAsync(m => m.Sum("gemini_party_resources", ("key", owner), ("collection", "files")) == files);

        Assert.Equal(files, scrape.Sum("gemini_party_resources", ("key", owner), ("collection", "files")));
        FrontendAssertions.AssertNoUpstreamKey(scrape.Text);

        // the owner cools for a second under a request naming the file: it waits for that key, counted under it
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(gateway.Upstream.Requests.Last(r => r.Path == "/v1beta/" + name).ApiKey!, FakeFault.RateLimitPerMinute(1), times: 1);
        using (var waited = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent",
            $$$"""{"contents":[{"parts":[{"text":"read"},{"fileData":{"fileUri":"{{{name}}}"}}]}]}"""))
        {
            Assert.Equal(200, (int)waited.StatusCode);
        }
        var after = await ScrapeUntilAsync(m => m.Sum("gemini_party_affinity_waits_total", ("model", model)) == 1);
        Assert.Equal(1, after.Sum("gemini_party_affinity_waits_total", ("model", model), ("key", owner))); // once per request
    }

    private async Task<Scrape> ScrapeUntilAsync(Func<Scrape, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var scrape = await ScrapeAsync();
            if (done(scrape) || DateTime.UtcNow > deadline)
            {
                return scrape;
            }
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    private async Task<Scrape> ScrapeAsync()
    {
        using var response = await gateway.GetAsync("/metrics");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        return new Scrape(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>Prometheus text exposition, read just enough to sum samples by name and labels.</summary>
    [Fact]
    public async Task Lease_metrics_show_far_fewer_pool_calls_than_requests_and_every_key_they_brought()
    {
        var model = FrontendFixture.NewModel();
        const int requests = 100;
        using (var first = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt))
        {
            Assert.Equal(200, (int)first.StatusCode); // metrics name a model once upstream has served it
        }
        var heldBefore = await gateway.Services.GetRequiredService<KeyLeases>().HeldWhenSettledAsync(model);

        await Task.WhenAll(Enumerable.Range(0, requests).Select(async _ =>
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
            Assert.Equal(200, (int)response.StatusCode);
        }));
        var held = await gateway.Services.GetRequiredService<KeyLeases>().HeldWhenSettledAsync(model);

        var leased = requests + held - heldBefore;
        var after = await ScrapeUntilAsync(m => m.Sum("gemini_party_pool_leased_keys_total", ("model", model)) == leased);
        var calls = after.Sum("gemini_party_pool_lease_calls_total", ("model", model));
        Assert.InRange(calls, 1, requests / 2); // a burst: waiting requests share a call, the rest find keys leased ahead
        Assert.Equal(leased, after.Sum("gemini_party_pool_leased_keys_total", ("model", model))); // none lost
        Assert.InRange(after.Sum("gemini_party_pool_lease_waits_total", ("model", model)), 1, requests); // the first ones waited
    }

    private sealed class Scrape
    {
        private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

        public Scrape(string text)
        {
            Text = text;
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0 || line[0] == '#' || Sample().Match(line) is not { Success: true } match)
                {
                    continue;
                }
                var labels = Label().Matches(match.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value);
                _samples.Add((match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)));
            }
        }

        public string Text { get; }

        public IEnumerable<string> Names => _samples.Select(s => s.Name).Distinct();

        /// <summary>The sum of the samples that have every given label.</summary>
        public double Sum(string name, params (string Label, string Value)[] labels) =>
            _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value))
                .Sum(s => s.Value);
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)""")]
    private static partial Regex Sample();

    [GeneratedRegex(""""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"""")]
    private static partial Regex Label();
}
