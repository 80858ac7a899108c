using GeminiParty.FakeGemini;

namespace GeminiParty.Cluster.Tests;

/// <summary>Everything stops (as in a full redeploy) and starts again on the same Redis: the pool remembers.</summary>
[Collection(DurabilityCollection.Name)]
public sealed class RestartTests(DurabilityClusterFixture cluster)
{
    [Fact]
    public async Task Counters_cooldowns_and_invalid_marks_survive_a_full_restart()
    {
        await cluster.EnsureRunningAsync();
        var model = ClusterFixture.NewModel();
        const int cooling = 1, invalid = 3;
        cluster.Upstream.SetFault(cluster.Keys[cooling], FakeFault.RateLimitPerMinute(retryDelaySeconds: 300), times: 1);
        cluster.Upstream.SetFault(cluster.Keys[invalid], FakeFault.InvalidKey, times: 1);
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(i % 2, model, TestContext.Current.CancellationToken));
        }
        var seen = cluster.KeysSeenFor(model);
        Assert.True(seen.Contains(cooling) && seen.Contains(invalid), $"faults did not fire: {string.Join(",", seen)}");

        var before = await cluster.StatusCountingAsync(0, model, seen.Length, TestContext.Current.CancellationToken);
        Assert.Equal(seen.Length, before.Total(model, "attempts"));
        Assert.NotNull(before.CooldownUntil(cooling, model));
        Assert.True(before.IsInvalid(invalid), $"key {invalid} not invalid: {before.Key(invalid)}");

        await cluster.StopAllAsync();
        await cluster.EnsureRunningAsync();

        var after = await cluster.StatusAsync(1, TestContext.Current.CancellationToken);
        for (var key = 0; key < cluster.ConfiguredKeys.Count; key++)
        {
            Assert.True(before.Counter(key, model, "attempts") == after.Counter(key, model, "attempts"),
                $"key {key}: attempts {before.Counter(key, model, "attempts")} before the restart, {after.Counter(key, model, "attempts")} after\n{before.CountersFor(model)}\n{after.CountersFor(model)}");
        }
        Assert.Equal(before.CooldownUntil(cooling, model), after.CooldownUntil(cooling, model));
        Assert.True(after.IsInvalid(invalid), $"key {invalid} lost its invalid mark: {after.Key(invalid)}");

        // The restored pool acts on what it remembers, and counting continues from where it was.
        var more = 6;
        for (var i = 0; i < more; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(i % 2, model, TestContext.Current.CancellationToken));
        }
        var newer = cluster.KeysSeenFor(model)[seen.Length..];
        Assert.True(!newer.Contains(cooling) && !newer.Contains(invalid), $"a cooling or invalid key was used after the restart: {string.Join(",", newer)}");
        var latest = await cluster.StatusCountingAsync(0, model, seen.Length + more, TestContext.Current.CancellationToken);
        Assert.Equal(before.Total(model, "attempts") + newer.Length, latest.Total(model, "attempts"));
    }
}
