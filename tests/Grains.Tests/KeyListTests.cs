namespace GeminiParty.Grains.Tests;

/// <summary>
/// The pool following its silo's key list (reloads), quota groups, probes and admin actions. Each test puts a key list
/// of its own in force (so probes and pools of other tests do not mix with it) and the fixture's back afterwards.
/// </summary>
[Collection(PoolClusterCollection.Name)]
public sealed class KeyListTests(PoolClusterFixture fixture) : IAsyncLifetime
{
    private const string Flash = "gemini-2.0-flash";
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        fixture.KeyList.Update(new PoolKeyAliases(fixture.Aliases).Keys);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task A_reload_adds_keys_at_the_tail_removes_others_at_once_and_keeps_the_state_of_the_rest()
    {
        var (a, b, c, d) = (NewKey(), NewKey(), NewKey(), NewKey());
        Use(a, b, c);
        var pool = fixture.NewPool();
        var first = await pool.LeaseAsync(Flash, 3);
        await pool.RecordAsync(new ReportBatch(Guid.NewGuid(), 1, [new AttemptReport(first.Keys[0], Flash, UpstreamOutcome.Success)]));

        Use(a, c, d);
        var status = await Eventually(pool, s => s.Keys.Count == 4);
        Assert.Equal([a.Fingerprint, b.Fingerprint, c.Fingerprint, d.Fingerprint], status.Keys.Select(k => k.Key.Fingerprint));
        Assert.True(status.Keys[1].Removed);
        Assert.Equal(1, status.Keys[0].Lifetime[Flash].Successes); // unchanged keys keep their state
        var lease = await pool.LeaseAsync(Flash, 30);
        Assert.DoesNotContain(lease.Keys, key => key.Fingerprint == b.Fingerprint);
        Assert.Equal(10, lease.Keys.Count(key => key.Fingerprint == d.Fingerprint));

        // a key that comes back gets its index and history back
        Use(a, b, c, d);
        status = await Eventually(pool, s => !s.Keys[1].Removed);
        Assert.Equal(4, status.Keys.Count);
    }

    [Fact]
    public async Task A_rate_limit_on_one_key_cools_the_model_for_its_whole_project()
    {
        var (p1, p2, other) = (NewKey(project: "shared"), NewKey(project: "shared"), NewKey());
        Use(p1, p2, other);
        var pool = fixture.NewPool();
        var lease = await pool.LeaseAsync(Flash, 3);
        var key1 = lease.Keys.Single(key => key.Fingerprint == p1.Fingerprint);

        await pool.PenalizeAsync(new AttemptReport(key1, Flash, UpstreamOutcome.RateLimited, TimeSpan.FromSeconds(60), "429 PerMinute"));

        var status = await pool.GetStatusAsync();
        Assert.Contains(Flash, status.Keys[0].Cooldowns.Keys);
        Assert.Contains(Flash, status.Keys[1].Cooldowns.Keys);
        Assert.Empty(status.Keys[2].Cooldowns);
        Assert.All((await pool.LeaseAsync(Flash, 5)).Keys, key => Assert.Equal(other.Fingerprint, key.Fingerprint));
        Assert.Equal(3, (await pool.LeaseAsync("gemini-2.5-pro", 3)).Keys.Select(k => k.Index).Distinct().Count());
    }

    [Fact]
    public async Task An_invalid_key_is_probed_on_a_doubling_schedule_once_per_due_time_and_restored_when_it_passes()
    {
        var (bad, good) = (NewKey(), NewKey());
        Use(bad, good);
        var pool = fixture.NewPool();
        var lease = await pool.LeaseAsync(Flash, 2);
        fixture.Prober.Answer(bad.Fingerprint, KeyProbeResult.Invalid);
        await pool.PenalizeAsync(new AttemptReport(lease.Keys.Single(k => k.Fingerprint == bad.Fingerprint), Flash, UpstreamOutcome.InvalidKey, Reason: "400 API key not valid"));
        var interval = TimeSpan.FromMilliseconds(60_000); // KEY_PROBE_INTERVAL in the fixture

        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.Equal(0, fixture.Prober.Count(bad.Fingerprint)); // not due yet
        fixture.Clock.Advance(interval);
        var status = await Eventually(pool, _ => fixture.Prober.Count(bad.Fingerprint) == 1, s => s.Keys[0].Probe?.LastAt is not null);
        Assert.Equal(KeyProbeResult.Invalid, status.Keys[0].Probe!.LastResult);
        Assert.Equal(fixture.Clock.GetUtcNow() + 2 * interval, status.Keys[0].Probe!.NextAt); // doubled

        fixture.Clock.Advance(interval);
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.Equal(1, fixture.Prober.Count(bad.Fingerprint)); // once per due time, not per tick

        fixture.Prober.Answer(bad.Fingerprint, KeyProbeResult.Passed);
        fixture.Clock.Advance(interval);
        status = await Eventually(pool, _ => fixture.Prober.Count(bad.Fingerprint) == 2, s => s.Keys[0].Invalid is null);
        Assert.Null(status.Keys[0].Probe!.NextAt);
        Assert.Contains((await pool.LeaseAsync(Flash, 4)).Keys, key => key.Fingerprint == bad.Fingerprint);
        Assert.Equal(2, fixture.Prober.Count(bad.Fingerprint));
    }

    [Fact]
    public async Task Transient_failures_in_a_row_bench_the_key_briefly_and_probe_it()
    {
        var (flaky, steady) = (NewKey(), NewKey());
        Use(flaky, steady);
        var pool = fixture.NewPool();
        var key = (await pool.LeaseAsync(Flash, 2)).Keys.Single(k => k.Fingerprint == flaky.Fingerprint);
        await pool.RecordAsync(new ReportBatch(Guid.NewGuid(), 1, [new AttemptReport(key, Flash, UpstreamOutcome.Success)]));
        var reports = Enumerable.Range(0, 5).Select(_ => new AttemptReport(key, Flash, UpstreamOutcome.Transient, Reason: "503")).ToArray();

        await pool.RecordAsync(new ReportBatch(Guid.NewGuid(), 1, reports));

        var status = await Eventually(pool, _ => fixture.Prober.Count(flaky.Fingerprint) == 1, s => s.Keys[0].Probe?.LastResult == KeyProbeResult.Passed);
        Assert.Contains(Flash, status.Keys[0].Cooldowns.Keys);
        Assert.Null(status.Keys[0].Invalid);
    }

    [Fact]
    public async Task Transient_failures_of_requests_no_key_served_are_counted_but_bench_nothing()
    {
        var (flaky, steady) = (NewKey(), NewKey());
        Use(flaky, steady);
        var pool = fixture.NewPool();
        var key = (await pool.LeaseAsync(Flash, 2)).Keys.Single(k => k.Fingerprint == flaky.Fingerprint);
        await pool.RecordAsync(new ReportBatch(Guid.NewGuid(), 1, [new AttemptReport(key, Flash, UpstreamOutcome.Success)]));
        var reports = Enumerable.Range(0, 10).Select(_ => new AttemptReport(key, Flash, UpstreamOutcome.Transient, Reason: "500", NoKeyServed: true)).ToArray();

        await pool.RecordAsync(new ReportBatch(Guid.NewGuid(), 1, reports));

        var status = await pool.GetStatusAsync();
        var slot = status.Keys.Single(k => k.Key.Fingerprint == flaky.Fingerprint);
        Assert.Equal(10, slot.Lifetime[Flash].Transient);
        Assert.Empty(slot.Cooldowns);
        Assert.Equal(0, fixture.Prober.Count(flaky.Fingerprint));
        Assert.Contains((await pool.LeaseAsync(Flash, 4)).Keys, leased => leased.Fingerprint == flaky.Fingerprint);
    }

    [Fact]
    public async Task Admin_actions_take_effect_on_the_pool_by_index_or_fingerprint()
    {
        var (a, b) = (NewKey(), NewKey());
        Use(a, b);
        var pool = fixture.NewPool();
        var lease = await pool.LeaseAsync(Flash, 2);
        await pool.RecordAsync(new ReportBatch(Guid.NewGuid(), 1, [new AttemptReport(lease.Keys[0], Flash, UpstreamOutcome.Success)]));

        Assert.Equal(0, (await pool.AdminAsync("0", KeyAdminAction.Disable, "admin")).Key!.Index);
        Assert.All((await pool.LeaseAsync(Flash, 4)).Keys, key => Assert.Equal(1, key.Index));
        Assert.NotNull((await pool.GetStatusAsync()).Keys[0].Disabled);

        await pool.AdminAsync(a.Fingerprint, KeyAdminAction.Enable, "admin");
        Assert.Contains((await pool.LeaseAsync(Flash, 4)).Keys, key => key.Index == 0);

        await pool.PenalizeAsync(new AttemptReport(lease.Keys[1], Flash, UpstreamOutcome.RateLimited, TimeSpan.FromHours(1)));
        await pool.AdminAsync("1", KeyAdminAction.ClearCooldowns, "admin");
        Assert.Contains((await pool.LeaseAsync(Flash, 4)).Keys, key => key.Index == 1);

        await pool.AdminAsync("0", KeyAdminAction.Reset, "admin");
        Assert.Empty((await pool.GetStatusAsync()).Keys[0].Lifetime);

        fixture.Prober.Answer(b.Fingerprint, KeyProbeResult.Invalid);
        var probed = await pool.AdminAsync(b.Fingerprint, KeyAdminAction.Probe, "admin");
        Assert.Equal(KeyProbeResult.Invalid, probed.Probe);
        Assert.NotNull((await pool.GetStatusAsync()).Keys[1].Invalid);

        Assert.Null((await pool.AdminAsync("7", KeyAdminAction.Disable, "admin")).Key);
        Assert.Null((await pool.AdminAsync("nosuchfingerprint", KeyAdminAction.Disable, "admin")).Key);
    }

    private void Use(params TestKey[] keys) =>
        fixture.KeyList.Update(keys.Select(key => new ConfiguredKey(key.Fingerprint, key.Attributes)).ToArray());

    private static TestKey NewKey(string? project = null) =>
        new(UpstreamKeyList.Fingerprint(Guid.NewGuid().ToString("N")), new KeyAttributes(project));

    private static async Task<PoolStatus> Eventually(IKeyPoolGrain pool, Func<PoolStatus, bool> condition) =>
        await Eventually(pool, _ => true, condition);

    private static async Task<PoolStatus> Eventually(IKeyPoolGrain pool, Func<PoolStatus, bool> first, Func<PoolStatus, bool> condition)
    {
        var deadline = DateTime.UtcNow + Settle;
        while (true)
        {
            var status = await pool.GetStatusAsync();
            if ((first(status) && condition(status)) || DateTime.UtcNow > deadline)
            {
                return status;
            }
            await Task.Delay(50);
        }
    }

    private sealed record TestKey(string Fingerprint, KeyAttributes Attributes);
}
