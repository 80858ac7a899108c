namespace GeminiParty.Grains.Tests;

/// <summary>The client grain's windows, decided one call at a time on the pool's fake clock.</summary>
[Collection(PoolClusterCollection.Name)]
public sealed class ClientGrainTests(PoolClusterFixture fixture)
{
    private IClientGrain NewClient() => fixture.Grains.GetGrain<IClientGrain>("client-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Calls_from_many_callers_at_once_never_admit_more_than_rpm_in_any_60_seconds()
    {
        var client = NewClient();
        var limits = new ClientLimits(30, null, null, null);
        var decisions = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => client.AdmitAsync("m", limits)));
        Assert.Equal(30, decisions.Count(d => d.Admitted));
        Assert.All(decisions.Where(d => !d.Admitted), d =>
        {
            Assert.Equal(ClientRefusal.RequestsPerMinute, d.Refusal);
            Assert.Equal(TimeSpan.FromMinutes(1), d.RetryAfter);
        });

        fixture.Clock.Advance(TimeSpan.FromSeconds(59));
        Assert.False((await client.AdmitAsync("m", limits)).Admitted);
        fixture.Clock.Advance(TimeSpan.FromSeconds(1));
        var later = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => client.AdmitAsync("m", limits)));
        Assert.Equal(30, later.Count(d => d.Admitted));

        var usage = await client.GetUsageAsync();
        Assert.Equal(60, usage.Days[usage.Today]["m"].Requests);
        Assert.Equal(81, usage.Days[usage.Today]["m"].Refused);
    }

    [Fact]
    public async Task A_slot_its_frontend_stopped_renewing_expires_while_a_renewed_one_stays()
    {
        var client = NewClient();
        var limits = new ClientLimits(null, null, null, 2);
        var kept = await client.AdmitAsync("m", limits);
        var leaked = await client.AdmitAsync("m", limits);
        Assert.True(kept.Admitted && leaked.Admitted);
        Assert.Equal(ClientRefusal.Concurrency, (await client.AdmitAsync("m", limits)).Refusal);

        // the frontend holding `kept` renews it; the one holding `leaked` died
        for (var i = 0; i < 3; i++)
        {
            fixture.Clock.Advance(TimeSpan.FromSeconds(25));
            await client.RenewAsync([kept.Slot]);
        }
        var next = await client.AdmitAsync("m", limits);
        Assert.True(next.Admitted, "the unrenewed slot expired");
        Assert.Equal(ClientRefusal.Concurrency, (await client.AdmitAsync("m", limits)).Refusal);

        await client.CompleteAsync(kept.Slot, "m", new UsageCounts { Errors = 0 });
        Assert.True((await client.AdmitAsync("m", limits)).Admitted);
    }

    [Fact]
    public async Task A_check_admits_nothing_and_holds_no_slot_but_a_refused_check_counts_as_refused()
    {
        var client = NewClient();
        var limits = new ClientLimits(2, null, null, 1);
        for (var i = 0; i < 5; i++)
        {
            Assert.True((await client.CheckAsync("m", limits)).Admitted);
        }
        var held = await client.AdmitAsync("m", limits);
        Assert.True(held.Admitted);
        Assert.Equal(ClientRefusal.Concurrency, (await client.CheckAsync("m", limits)).Refusal);
        await client.CompleteAsync(held.Slot, "m", new UsageCounts());
        Assert.True((await client.AdmitAsync("m", limits)).Admitted);
        var overRpm = await client.CheckAsync("m", limits);
        Assert.Equal(ClientRefusal.RequestsPerMinute, overRpm.Refusal);
        Assert.Equal(0L, overRpm.Requests?.Remaining);

        var usage = await client.GetUsageAsync();
        Assert.Equal(2, usage.Days[usage.Today]["m"].Requests); // the five checks that passed counted nothing
        Assert.Equal(2, usage.Days[usage.Today]["m"].Refused);
    }

    [Fact]
    public async Task A_usage_batch_sent_twice_counts_once()
    {
        var client = NewClient();
        var batch = new UsageBatch(Guid.NewGuid(), 1, new() { ["m"] = new UsageCounts { Requests = 3, TotalTokens = 30 } });
        await client.RecordAsync(batch);
        await client.RecordAsync(batch);
        var usage = await client.GetUsageAsync();
        Assert.Equal(3, usage.Days[usage.Today]["m"].Requests);
        Assert.Equal(30, usage.Minutes.Values.Sum(m => m.TotalTokens));
    }
}
