using System.Diagnostics;
using GeminiParty.FakeGemini;

namespace GeminiParty.Cluster.Tests;

/// <summary>The silo running the pool grain dies without warning: the pool moves, and clients notice seconds, not state.</summary>
[Collection(DurabilityCollection.Name)]
public sealed class FailoverTests(DurabilityClusterFixture cluster)
{
    /// <summary>The issue's bound for requests succeeding again after the pool's silo is killed.</summary>
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Killing_the_pool_silo_costs_seconds_and_keeps_cooldowns()
    {
        await cluster.EnsureRunningAsync();
        var model = ClusterFixture.NewModel();
        const int cooling = 0;
        cluster.Upstream.SetFault(cluster.Keys[cooling], FakeFault.RateLimitPerMinute(retryDelaySeconds: 120), times: 1);
        for (var i = 0; i < cluster.ConfiguredKeys.Count && !cluster.KeysSeenFor(model).Contains(cooling); i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(0, model, TestContext.Current.CancellationToken));
        }
        Assert.Contains(cooling, cluster.KeysSeenFor(model));

        var before = await cluster.StatusAsync(0, TestContext.Current.CancellationToken);
        var poolSilo = cluster.Silos.Single(silo => before.PoolSilo().Contains($":{silo.SiloPort}:", StringComparison.Ordinal));
        var survivor = cluster.Silos.Single(silo => silo != poolSilo);

        await using var loop = new RequestLoop(cluster, model);
        // a couple of seconds of traffic first, so that counter flushes are under way when the silo dies
        await loop.WaitForSuccessesAsync(40, TimeSpan.Zero, TimeSpan.FromSeconds(20));
        // frontend 2 leases a turn of another model from the pool about to die: it uses key 0 and holds the others
        var held = ClusterFixture.NewModel();
        Assert.Equal(200, await cluster.GenerateAsync(1, held, TestContext.Current.CancellationToken));
        var killedAt = loop.Now;
        poolSilo.Kill();
        await loop.WaitForSteadySuccessAsync(since: killedAt, quiet: TimeSpan.FromSeconds(3), timeout: TimeSpan.FromSeconds(30));
        await loop.StopAsync();

        var calls = loop.Calls;
        var recovery = loop.DisturbedFor(killedAt);
        var failed = calls.Count(call => !call.Succeeded);
        var slowest = calls.Where(call => call.End > killedAt).Max(call => call.Duration);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"killed {poolSilo.Name} (pool host): clients affected for {recovery.TotalSeconds:0.0}s after the kill; " +
            $"{failed} of {calls.Count} calls failed; slowest call {slowest.TotalSeconds:0.0}s; {loop.Summary()}");
        Assert.True(recovery <= RecoveryBound, $"requests failed or hung for {recovery.TotalSeconds:0.0}s after the kill: {loop.Summary()}\n{cluster.Diagnostics()}");
        Assert.True(calls.Count(call => call.Start > killedAt + recovery && call.Succeeded) >= 10, $"too few successes after recovery: {loop.Summary()}");

        // The cooldown was written to Redis at once, so the re-activated pool still avoids the key.
        var seen = cluster.KeysSeenFor(model);
        Assert.True(seen.Count(key => key == cooling) == 1, $"key {cooling} used while cooling: {string.Join(",", seen)}");

        var after = await cluster.StatusAsync(1, TestContext.Current.CancellationToken);
        Assert.Contains($":{survivor.SiloPort}:", after.PoolSilo(), StringComparison.Ordinal);
        Assert.NotNull(after.CooldownUntil(cooling, model));

        // Counters are written behind (COUNTER_FLUSH_INTERVAL, 1 s): at most the calls the dead pool counted since its
        // last write may be missing from the lifetime counts. Reports sent while it was dying are not: frontends send a
        // batch again until a pool acknowledges it, so calls that went on succeeding during the failover still count.
        var window = calls.Count(call => call.Start >= killedAt - TimeSpan.FromSeconds(1.5) && call.Start <= killedAt) + 2;
        // the batches held up by the dead silo arrive once their calls time out and are sent again: wait for them
        var counted = await cluster.StatusCountingAsync(1, model, seen.Length - window, TestContext.Current.CancellationToken);
        var lost = seen.Length - counted.Total(model, "attempts");
        TestContext.Current.TestOutputHelper?.WriteLine($"attempt counts lost with the pool silo: {lost} (bound {window})");
        Assert.True(lost <= window, $"{lost} attempts not counted, more than the {window} calls of the write-behind window");

        // The new pool activation starts with no subscribers; frontend 2 is back on it with its next lease of any model
        // (the loop above) or its renewal (every 5 s), so a 429 met through frontend 1 still takes the key out of the
        // turn frontend 2 has held since before the kill.
        await Task.Delay(TimeSpan.FromSeconds(6), TestContext.Current.CancellationToken);
        const int limited = 1;
        cluster.Upstream.SetFault(cluster.Keys[limited], FakeFault.RateLimitPerMinute(retryDelaySeconds: 60), times: 1);
        for (var i = 0; i < cluster.ConfiguredKeys.Count && !cluster.Upstream.Requests.Any(r => r.Model == held && r.Status == 429); i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(0, held, TestContext.Current.CancellationToken));
        }
        for (var i = 0; i < cluster.ConfiguredKeys.Count; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(1, held, TestContext.Current.CancellationToken));
        }
        var heldSeen = cluster.KeysSeenFor(held);
        Assert.True(heldSeen.Count(key => key == limited) == 1, $"key {limited} used while cooling after the failover: {string.Join(",", heldSeen)}");

        await cluster.EnsureRunningAsync();
    }

    /// <summary>
    /// Opt-in (<c>GEMINI_PARTY_TIMING_TESTS=1</c>): whether the idle frontend hears the withdrawal depends on how soon its
    /// Orleans client reconnects after the silo it used stops, which took from well under a second to over 3.6 s in CI
    /// runs on this machine (docs/cluster.md). The mechanisms it relies on are tested deterministically in
    /// <c>PoolSubscribersTests</c> and <c>KeyPoolGrainTests</c>.
    /// </summary>
    [Fact]
    public async Task A_graceful_stop_of_the_pool_silo_leaves_no_gap_in_which_an_idle_frontend_misses_a_withdrawal()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("GEMINI_PARTY_TIMING_TESTS") == "1",
            "timing-dependent (an Orleans client's reconnection); set GEMINI_PARTY_TIMING_TESTS=1 to run it");
        await cluster.EnsureRunningAsync();
        var ct = TestContext.Current.CancellationToken;
        var model = ClusterFixture.NewModel();
        // frontend 2 leases a turn of keys from the pool: it uses key 0 and holds the others; then it stays idle
        Assert.Equal(200, await cluster.GenerateAsync(1, model, ct));
        var before = await cluster.StatusAsync(0, ct);
        var poolSilo = cluster.Silos.Single(silo => before.PoolSilo().Contains($":{silo.SiloPort}:", StringComparison.Ordinal));
        var survivor = cluster.Silos.Single(silo => silo != poolSilo);

        // SIGTERM (a rolling update): the pool deactivates and comes back on the other silo; timed from the moment it is
        // there, not from the old silo's exit, so that the test lands in the gap the frontend's 5 s renewal would leave
        var stopping = poolSilo.StopAsync();
        var moved = Stopwatch.StartNew();
        while (await PoolSiloAsync() is not { } silo || !silo.Contains($":{survivor.SiloPort}:", StringComparison.Ordinal))
        {
            Assert.True(moved.Elapsed < TimeSpan.FromSeconds(30), $"the pool did not move to {survivor.Name}\n{cluster.Diagnostics()}");
            await Task.Delay(50, ct);
        }
        // The new activation starts with no subscribers. A frontend that heard the move announced renews every 100 ms
        // (PoolSubscription.MovingRenewEvery), so half a second later every frontend is back on it; without the
        // announcement, an idle frontend would be back only at its next 5 s renewal.
        await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        moved.Restart();

        // frontend 1 meets a 429 on a key frontend 2 holds...
        const int limited = 1;
        cluster.Upstream.SetFault(cluster.Keys[limited], FakeFault.RateLimitPerMinute(retryDelaySeconds: 60), times: 1);
        for (var i = 0; i < cluster.ConfiguredKeys.Count && !cluster.Upstream.Requests.Any(r => r.Model == model && r.Status == 429); i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(0, model, ct));
        }
        Assert.Contains(cluster.Upstream.Requests, r => r.Model == model && r.Status == 429);
        var metAfter = moved.Elapsed;

        // ...and frontend 2, which has not leased since the move, must already have dropped it
        for (var i = 0; i < cluster.ConfiguredKeys.Count; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(1, model, ct));
        }
        var seen = cluster.KeysSeenFor(model);
        TestContext.Current.TestOutputHelper?.WriteLine($"429 met {metAfter.TotalMilliseconds + 500:0} ms after the move; keys: {string.Join(",", seen)}");
        Assert.True(seen.Count(key => key == limited) == 1,
            $"key {limited} used again while cooling, {metAfter.TotalMilliseconds + 500:0} ms after the pool moved: {string.Join(",", seen)}\n{cluster.Diagnostics()}");

        await stopping;
        await cluster.EnsureRunningAsync();
    }

    /// <summary>The pool's silo as frontend 1's /rotation-status names it; null while the pool cannot be asked (503).</summary>
    private async Task<string?> PoolSiloAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/rotation-status");
        request.Headers.Authorization = new("Bearer", ClusterFixture.Token);
        using var response = await cluster.Client(0).SendAsync(request, TestContext.Current.CancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
        {
            return null;
        }
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"/rotation-status: {(int)response.StatusCode} {body}");
        return System.Text.Json.JsonSerializer.Deserialize<System.Text.Json.JsonElement>(body).PoolSilo();
    }
}
