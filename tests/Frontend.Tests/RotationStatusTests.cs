using System.Text.Json;
using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>What /rotation-status adds to the original's shape: the cluster, outcome classes, tokens, last use.</summary>
[Collection(FrontendCollection.Name)]
public sealed class RotationStatusTests(FrontendFixture gateway) : IDisposable
{
    public void Dispose() => gateway.Upstream.ClearFaults();

    [Fact]
    public async Task The_cluster_shows_this_silo_active_with_its_address_storage_and_cluster_id()
    {
        var status = await gateway.RotationStatusAsync();

        var cluster = status.GetProperty("data").GetProperty("cluster");
        Assert.Equal("embedded", cluster.GetProperty("mode").GetString());
        Assert.Equal("memory", cluster.GetProperty("storage").GetString());
        Assert.Equal("gemini-party", cluster.GetProperty("clusterId").GetString());
        var silo = Assert.Single(cluster.GetProperty("silos").EnumerateArray());
        Assert.Equal("Active", silo.GetProperty("status").GetString());
        Assert.StartsWith("127.0.0.1:", silo.GetProperty("address").GetString());
        Assert.False(string.IsNullOrEmpty(cluster.GetProperty("poolSilo").GetString()));
    }

    [Fact]
    public async Task A_rate_limited_key_shows_its_class_and_the_model_has_one_usable_key_less()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(FrontendFixture.Keys[0], FakeFault.RateLimitPerMinute(retryDelaySeconds: 120), times: 1);
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
            Assert.Equal(200, (int)response.StatusCode);
        }

        var status = await gateway.RotationStatusWhenAsync(s => ModelStats(s, model).GetProperty("lifetime").GetProperty("successes").GetInt64() == 3);

        var stats = ModelStats(status, model);
        Assert.Equal(1, stats.GetProperty("coolingKeys").GetInt32());
        Assert.Equal(2, stats.GetProperty("usableKeys").GetInt32());
        var lifetime = stats.GetProperty("lifetime");
        Assert.Equal(4, lifetime.GetProperty("requests").GetInt64());
        Assert.Equal(1, lifetime.GetProperty("failures").GetProperty("rateLimited").GetInt64());
        Assert.True(lifetime.GetProperty("tokens").GetProperty("total").GetInt64() > 0);

        var key0 = status.KeyStatus(0);
        Assert.Equal("cooling", key0.GetProperty("status").GetString());
        Assert.Equal(1, key0.GetProperty("models").GetProperty(model).GetProperty("rateLimited").GetInt64());
        Assert.Equal(JsonValueKind.String, key0.GetProperty("lastUsed").ValueKind);
        var cooldown = key0.GetProperty("cooldowns").EnumerateArray().Single(c => c.GetProperty("model").GetString() == model);
        Assert.InRange(cooldown.GetProperty("remainingMs").GetInt64(), 100_000, 120_000);
        var summary = status.GetProperty("data").GetProperty("summary").GetProperty("totals");
        Assert.True(summary.GetProperty("successes").GetInt64() >= 3);
    }

    private static JsonElement ModelStats(JsonElement status, string model) =>
        status.GetProperty("data").GetProperty("modelStats").EnumerateArray().Single(m => m.GetProperty("name").GetString() == model);
}

/// <summary>A gateway with 10,000 keys, each used: /rotation-status lists them all (its speed is measured by bench/PoolBench).</summary>
public sealed class ManyKeysFrontendFixture : FrontendFixture
{
    public const int KeyCount = 10_000;

    protected override FakeGeminiOptions UpstreamOptions => new() { ValidKeys = [] };

    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["GEMINI_API_KEY"] = string.Join(",", Enumerable.Range(0, KeyCount).Select(i => $"AIzaSyManyKeys{i:D6}-{new string('k', 20)}")),
    };
}

public sealed class RotationStatusScaleTests(ManyKeysFrontendFixture gateway) : IClassFixture<ManyKeysFrontendFixture>
{
    [Fact]
    public async Task Status_of_ten_thousand_used_keys_lists_every_key_and_counts_every_request()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] models = ["gemini-scale-a", "gemini-scale-b"];
        // every key leased once per model: 20,000 requests, 8 at a time
        await Parallel.ForAsync(0, ManyKeysFrontendFixture.KeyCount * models.Length, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (i, token) =>
        {
            using var response = await gateway.Client.SendAsync(
                gateway.Request(HttpMethod.Post, $"/v1beta/models/{models[i % 2]}:generateContent", FrontendAssertions.Prompt), token);
            Assert.Equal(200, (int)response.StatusCode);
        });

        JsonElement status = default;
        // the frontend reports outcomes to the pool in batches: the last ones arrive shortly after the answers
        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            using var response = await gateway.GetAsync("/rotation-status");
            Assert.Equal(200, (int)response.StatusCode);
            status = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(ct)).RootElement.Clone();
            return status.GetProperty("data").GetProperty("summary").GetProperty("totals").GetProperty("requests").GetInt64() == 2 * ManyKeysFrontendFixture.KeyCount;
        }, "the status counts all 20,000 requests");

        Assert.Equal(ManyKeysFrontendFixture.KeyCount, status.GetProperty("data").GetProperty("keys").GetArrayLength());
    }
}
