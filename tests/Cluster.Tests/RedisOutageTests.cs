using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using GeminiParty.FakeGemini;

namespace GeminiParty.Cluster.Tests;

/// <summary>
/// Redis goes away for a few seconds, stopped or killed: the lease path never touches it, and the writes catch up
/// afterwards.
/// </summary>
[Collection(DurabilityCollection.Name)]
public sealed class RedisOutageTests(DurabilityClusterFixture cluster)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Requests_keep_succeeding_while_Redis_is_down_and_writes_catch_up(bool killed)
    {
        await cluster.EnsureRunningAsync();
        var model = ClusterFixture.NewModel();
        const int cooling = 2;
        var fingerprint = (await cluster.StatusAsync(0, TestContext.Current.CancellationToken)).Fingerprint(cooling);

        await using var loop = new RequestLoop(cluster, model);
        await loop.WaitForSuccessesAsync(10, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        var downAt = loop.Now;
        if (killed)
        {
            cluster.Redis.Kill();
        }
        else
        {
            await cluster.Redis.StopAsync();
        }

        // A cooldown while Redis is down: acted on at once, persisted when Redis is back.
        cluster.Upstream.SetFault(cluster.Keys[cooling], FakeFault.RateLimitPerMinute(retryDelaySeconds: 300), times: 1);
        await cluster.Upstream.WaitUntilAsync(_ => cluster.Upstream.Requests.Any(r => r.Model == model && r.Status == 429),
            TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        // /rotation-status keeps answering from the pool's memory, the new cooldown included (the silo list, read from
        // the membership table in Redis, may be missing)
        var shownBy = DateTime.UtcNow.AddSeconds(5); // the 429 reaches the pool a moment after upstream sent it
        var statusDuring = await cluster.StatusAsync(0, TestContext.Current.CancellationToken);
        while (statusDuring.CooldownUntil(cooling, model) is null && DateTime.UtcNow < shownBy)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            statusDuring = await cluster.StatusAsync(0, TestContext.Current.CancellationToken);
        }
        Assert.True(statusDuring.CooldownUntil(cooling, model) is not null, $"no cooldown of key {cooling} shown during the outage: {statusDuring.Key(cooling)}");
        var remaining = Outage - (loop.Now - downAt);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, TestContext.Current.CancellationToken);
        }
        await cluster.Redis.StartAsync(TimeSpan.FromSeconds(20));
        var upAt = loop.Now;
        await loop.WaitForSuccessesAsync(10, upAt, TimeSpan.FromSeconds(20));
        await loop.StopAsync();

        var calls = loop.Calls;
        var during = calls.Where(call => call.Start >= downAt && call.Start < upAt).ToArray();
        var slowest = during.Max(call => call.End - call.Start);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"Redis {(killed ? "killed" : "stopped")}, down {(upAt - downAt).TotalSeconds:0.0}s: {during.Length} calls during the outage, slowest {slowest.TotalSeconds:0.00}s; {loop.Summary()}");
        Assert.True(during.Length >= 10, $"too few calls during the outage: {loop.Summary()}");
        Assert.True(calls.All(call => call.Succeeded), $"requests failed around the Redis outage: {loop.Summary()}\n{cluster.Diagnostics()}");
        var seen = cluster.KeysSeenFor(model);
        var limitedAt = Array.FindIndex(cluster.Upstream.Requests.Where(r => r.Model == model).ToArray(), r => r.Status == 429);
        // One call of the other client may have leased the key just before the 429 came back; none after that.
        Assert.True(seen[(limitedAt + 1)..].Count(key => key == cooling) <= 1, $"key {cooling} used while cooling: {string.Join(",", seen)}");

        // The key grain retries its write every second: the cooldown reaches Redis once it is back.
        var stateKey = $"/{fingerprint}/";
        var deadline = DateTime.UtcNow.AddSeconds(20);
        IReadOnlyDictionary<string, string> stored;
        while (true)
        {
            stored = await cluster.Redis.DumpAsync();
            if (stored.Any(pair => pair.Key.Contains(stateKey, StringComparison.Ordinal) && pair.Value.Contains(model, StringComparison.Ordinal)))
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the cooldown of key {cooling} for {model} never reached Redis: {string.Join("\n", stored.Keys)}\n{cluster.Diagnostics()}");
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        // What Redis holds names keys by fingerprint only: no secret in any key or value.
        foreach (var secret in cluster.Keys)
        {
            Assert.DoesNotContain(stored, pair => pair.Key.Contains(secret, StringComparison.Ordinal) || pair.Value.Contains(secret, StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// The record of who made a resource cannot be written while Redis is down: the create is still answered, once,
    /// and made once upstream. Failing the answer would have the client (or the retry loop) make it again with another key.
    /// </summary>
    [Fact]
    public async Task A_cache_created_while_Redis_is_down_is_answered_once_and_made_once()
    {
        await cluster.EnsureRunningAsync();
        var model = ClusterFixture.NewModel();
        await cluster.Redis.StopAsync();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1beta/cachedContents")
            {
                Content = new StringContent($$"""{"model":"models/{{model}}","contents":[{"role":"user","parts":[{"text":"a long document"}]}],"ttl":"600s"}""",
                    Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new("Bearer", ClusterFixture.Token);
            using var response = await cluster.Client(0).SendAsync(request, TestContext.Current.CancellationToken);

            Assert.Equal(200, (int)response.StatusCode);
            var cache = (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("name").GetString();
            Assert.StartsWith("cachedContents/", cache);
            var creates = cluster.Upstream.Requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/cachedContents", StringComparison.Ordinal)
                && Encoding.UTF8.GetString(r.Body).Contains(model, StringComparison.Ordinal)).ToArray();
            Assert.Single(creates);
        }
        finally
        {
            await cluster.Redis.StartAsync(TimeSpan.FromSeconds(20));
        }
    }
}
