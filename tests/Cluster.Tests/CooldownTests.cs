using GeminiParty.FakeGemini;

namespace GeminiParty.Cluster.Tests;

/// <summary>
/// A 429 seen by one frontend is known to every frontend at once: they share one pool, and the pool tells each
/// frontend to drop the key from the turn of keys it holds.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CooldownTests(ClusterFixture cluster)
{
    [Fact]
    public async Task A_429_through_frontend_A_keeps_frontend_B_off_that_key_for_that_model()
    {
        var model = ClusterFixture.NewModel();
        const int limited = 1;
        var limitedKey = cluster.Keys[limited];
        cluster.Upstream.SetFault(limitedKey, FakeFault.RateLimitPerMinute(retryDelaySeconds: 60), times: 1);

        // Frontend B serves the model first: it leases a whole turn of keys, uses key 0 and holds the others, the
        // soon limited key among them.
        Assert.Equal(200, await cluster.GenerateAsync(1, model, TestContext.Current.CancellationToken));
        Assert.Equal([0], cluster.KeysSeenFor(model));

        // Through frontend A until the rotation reaches the key and gets its 429 (the client still gets a 200: retried).
        for (var i = 0; i < cluster.ConfiguredKeys.Count && !RateLimited(model, limitedKey); i++)
        {
            var status = await cluster.GenerateAsync(0, model, TestContext.Current.CancellationToken);
            Assert.True(status == 200, $"frontend-1: {status}\n{cluster.Diagnostics()}");
        }
        Assert.True(RateLimited(model, limitedKey), $"the 429 never fired: {string.Join(",", cluster.KeysSeenFor(model))}");

        // The very next requests go through frontend B, and none of them may use the cooling key.
        var next = 2 * cluster.ConfiguredKeys.Count;
        for (var i = 0; i < next; i++)
        {
            var status = await cluster.GenerateAsync(1, model, TestContext.Current.CancellationToken);
            Assert.True(status == 200, $"frontend-2: {status}\n{cluster.Diagnostics()}");
        }
        var seen = cluster.KeysSeenFor(model);
        Assert.True(seen.Count(key => key == limited) == 1, $"key {limited} was used again while cooling: {string.Join(",", seen)}");

        var onB = await cluster.StatusAsync(1, TestContext.Current.CancellationToken);
        var until = onB.CooldownUntil(limited, model);
        Assert.True(until > DateTimeOffset.UtcNow.AddSeconds(40), $"frontend-2 shows no cooldown of key {limited} for {model}: {onB.Key(limited)}");

        // The cooldown is per model: another model still gets the key in its turn.
        var other = ClusterFixture.NewModel();
        for (var i = 0; i < cluster.ConfiguredKeys.Count; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(1, other, TestContext.Current.CancellationToken));
        }
        Assert.Contains(limited, cluster.KeysSeenFor(other));
    }

    private bool RateLimited(string model, string key) =>
        cluster.Upstream.Requests.Any(r => r.Model == model && r.ApiKey == key && r.Status == 429);
}
