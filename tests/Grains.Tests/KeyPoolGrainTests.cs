namespace GeminiParty.Grains.Tests;

[Collection(PoolClusterCollection.Name)]
public sealed class KeyPoolGrainTests(PoolClusterFixture fixture)
{
    private const string Flash = "gemini-2.0-flash";
    private const string Pro = "gemini-2.5-pro";

    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    [Fact]
    public async Task Leases_go_round_robin_per_model_and_spread_evenly()
    {
        var pool = fixture.NewPool();
        var flash = new List<int>();
        var pro = new List<int>();
        for (var i = 0; i < 40; i++)
        {
            flash.Add(await LeaseIndex(pool, Flash));
            if (i % 2 == 0)
            {
                pro.Add(await LeaseIndex(pool, Pro));
            }
        }

        Assert.Equal([0, 1, 2, 3, 0, 1, 2, 3], flash.Take(8));
        Assert.All(flash.CountBy(i => i), pair => Assert.Equal(10, pair.Value));
        // the other model has its own cursor: interleaving does not skew it
        Assert.Equal([0, 1, 2, 3, 0], pro.Take(5));
        Assert.All(pro.CountBy(i => i), pair => Assert.Equal(5, pair.Value));
    }

    [Fact]
    public async Task A_lease_of_several_keys_continues_the_ring_in_order()
    {
        var pool = fixture.NewPool();

        Assert.Equal(new[] { 0, 1, 2 }, Indexes(await pool.LeaseAsync(Flash, 3)));
        Assert.Equal(new[] { 3, 0, 1 }, Indexes(await pool.LeaseAsync(Flash, 3)));
        Assert.Equal(new[] { 2, 3, 0, 1, 2, 3 }, Indexes(await pool.LeaseAsync(Flash, 6))); // round the ring again
        Assert.Equal(new[] { 2, 3, 2 }, Indexes(await pool.LeaseAsync(Flash, 3, new TriedKeys([0, 1]))));

        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[3], Flash, UpstreamOutcome.RateLimited, TimeSpan.FromSeconds(30)));
        var lease = Indexes(await pool.LeaseAsync(Flash, 9));
        Assert.DoesNotContain(3, lease);
        Assert.All(lease.CountBy(index => index), pair => Assert.Equal(3, pair.Value)); // three turns of three keys
        Assert.Equal(IKeyPoolGrain.MaxLeaseCount, (await pool.LeaseAsync(Pro, 10_000)).Keys.Length);
    }

    [Fact]
    public async Task Leasing_counts_nothing_the_reported_attempts_count()
    {
        var pool = fixture.NewPool();
        var lease = await pool.LeaseAsync(Flash, 4);
        await pool.LeaseAsync(Flash, 4);

        Assert.All((await pool.GetStatusAsync()).Keys, key => Assert.Empty(key.Lifetime));
        await pool.RecordAsync(Batch(new AttemptReport(lease.Keys[0], Flash, UpstreamOutcome.Success, Tokens: new TokenCounts(3, 4, 7))));
        var status = await Eventually(pool, s => s.Keys[0].Lifetime.ContainsKey(Flash));
        Assert.Equal(1, status.Keys[0].Lifetime[Flash].Attempts);
        Assert.Equal(7, status.Keys[0].Lifetime[Flash].TotalTokens);
        Assert.Equal(Now, status.Keys[0].Lifetime[Flash].LastUsed);
        Assert.Equal(1, status.Keys[0].Recent[Flash]);
    }

    [Fact]
    public async Task A_frontend_holding_leased_keys_hears_of_every_later_withdrawal()
    {
        var pool = fixture.NewPool();
        var frontend = new RecordingObserver();
        var reference = fixture.Grains.CreateObjectReference<IKeyPoolObserver>(frontend);
        var lease = await pool.LeaseAsync(Flash, 4, holder: reference); // the lease subscribes its holder

        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[1], Flash, UpstreamOutcome.RateLimited, TimeSpan.FromSeconds(30)));
        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[2], Pro, UpstreamOutcome.InvalidKey));
        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[1], Flash, UpstreamOutcome.RateLimited, TimeSpan.FromSeconds(10))); // no change

        var heard = await frontend.WaitForAsync(2);
        Assert.Equal((1, Flash), (heard[0].Key.Index, heard[0].Model));
        Assert.Equal((2, (string?)null), (heard[1].Key.Index, heard[1].Model)); // invalid: every model
        Assert.True(heard[0].Version > lease.Version && heard[1].Version > heard[0].Version);
        Assert.Equal(heard[1].Version, (await pool.LeaseAsync(Flash)).Version);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal(2, frontend.Heard.Count);
        fixture.Grains.DeleteObjectReference<IKeyPoolObserver>(reference);
    }

    [Fact]
    public async Task A_pool_whose_silo_starts_stopping_tells_its_subscribers_to_get_onto_its_next_activation()
    {
        var poolId = Guid.NewGuid().ToString("N");
        var pool = fixture.Grains.GetGrain<IKeyPoolGrain>(poolId);
        var holder = new RecordingObserver();
        var bystander = new RecordingObserver();
        var holderReference = fixture.Grains.CreateObjectReference<IKeyPoolObserver>(holder);
        var bystanderReference = fixture.Grains.CreateObjectReference<IKeyPoolObserver>(bystander);
        await pool.LeaseAsync(Flash, 4, holder: holderReference);

        await pool.SiloStoppingAsync(SiloAddress.New(System.Net.IPAddress.Loopback, 1, 1)); // another silo: the pool stays
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.False(holder.Moving.IsCompleted);

        await pool.SiloStoppingAsync(fixture.Cluster.Silos[0].SiloAddress); // its own silo
        Assert.True(holder.Moving.IsCompleted); // heard before the silo's shutdown goes on, not sent and hoped for
        Assert.False(bystander.Moving.IsCompleted); // only subscribers hear it

        // the next activation starts without subscribers: the one that subscribes again hears its withdrawals
        await fixture.Cluster.DeactivateAsync(((GrainReference)pool).GrainId);
        await pool.SubscribeAsync(holderReference);
        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[1], Flash, UpstreamOutcome.RateLimited, TimeSpan.FromSeconds(30)));
        Assert.Equal(1, (await holder.WaitForAsync(1))[0].Key.Index);
        fixture.Grains.DeleteObjectReference<IKeyPoolObserver>(holderReference);
        fixture.Grains.DeleteObjectReference<IKeyPoolObserver>(bystanderReference);
    }

    [Fact]
    public async Task A_subscription_not_renewed_lapses()
    {
        var pool = fixture.NewPool();
        var gone = new RecordingObserver();
        var live = new RecordingObserver();
        var goneReference = fixture.Grains.CreateObjectReference<IKeyPoolObserver>(gone);
        var liveReference = fixture.Grains.CreateObjectReference<IKeyPoolObserver>(live);
        await pool.SubscribeAsync(goneReference);
        await pool.SubscribeAsync(liveReference);

        fixture.Clock.Advance(IKeyPoolGrain.SubscriptionLifetime - TimeSpan.FromSeconds(1));
        await pool.SubscribeAsync(liveReference); // renewed in time
        fixture.Clock.Advance(TimeSpan.FromSeconds(2));
        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[0], Flash, UpstreamOutcome.InvalidKey));

        await live.WaitForAsync(1);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Empty(gone.Heard);
        fixture.Grains.DeleteObjectReference<IKeyPoolObserver>(goneReference);
        fixture.Grains.DeleteObjectReference<IKeyPoolObserver>(liveReference);
    }

    [Fact]
    public async Task A_rate_limited_key_cools_for_that_model_only_for_the_retry_delay()
    {
        var pool = fixture.NewPool();
        var key = fixture.Aliases[1];
        await pool.PenalizeAsync(new AttemptReport(key, Flash, UpstreamOutcome.RateLimited, TimeSpan.FromSeconds(30), "429"));

        var flash = await LeaseMany(pool, Flash, 9);
        Assert.DoesNotContain(1, flash);
        Assert.Contains(1, await LeaseMany(pool, Pro, 4));

        fixture.Clock.Advance(TimeSpan.FromSeconds(29));
        Assert.DoesNotContain(1, await LeaseMany(pool, Flash, 6));
        fixture.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Contains(1, await LeaseMany(pool, Flash, 4));
    }

    [Fact]
    public async Task Without_a_retry_delay_a_rate_limited_key_cools_for_the_blacklist_timeout()
    {
        var pool = fixture.NewPool();
        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[0], Flash, UpstreamOutcome.RateLimited));

        var status = await pool.GetStatusAsync();
        var cooldown = Assert.Single(status.Keys[0].Cooldowns);
        Assert.Equal(Now + PoolClusterFixture.BlacklistTimeout, cooldown.Value.Until);
    }

    [Fact]
    public async Task A_key_back_from_cooldown_takes_its_turn_without_a_burst()
    {
        var pool = fixture.NewPool();
        await LeaseMany(pool, Flash, 4);
        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[2], Flash, UpstreamOutcome.RateLimited, TimeSpan.FromSeconds(10)));
        await LeaseMany(pool, Flash, 30);
        fixture.Clock.Advance(TimeSpan.FromSeconds(11));

        var after = await LeaseMany(pool, Flash, 12);

        Assert.Equal(3, after.Count(i => i == 2));
        for (var i = 0; i + 3 < after.Count; i++)
        {
            Assert.Equal(4, after.Skip(i).Take(4).Distinct().Count()); // every window of 4 holds every key once
        }
    }

    [Fact]
    public async Task A_daily_quota_benches_the_key_until_midnight_in_Los_Angeles()
    {
        var pool = fixture.NewPool();
        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[3], Pro, UpstreamOutcome.DailyQuotaExhausted));

        var cooldown = Assert.Single((await pool.GetStatusAsync()).Keys[3].Cooldowns).Value;
        var pacific = TimeZoneInfo.FindSystemTimeZoneById("America/Los_Angeles");
        var local = TimeZoneInfo.ConvertTime(cooldown.Until, pacific);
        Assert.Equal(TimeSpan.Zero, local.TimeOfDay);
        Assert.True(cooldown.Until > Now && cooldown.Until - Now <= TimeSpan.FromHours(24));
        Assert.Equal(TimeZoneInfo.ConvertTime(Now, pacific).Date.AddDays(1), local.Date);

        Assert.DoesNotContain(3, await LeaseMany(pool, Pro, 9));
        fixture.Clock.Advance(cooldown.Until - Now + TimeSpan.FromSeconds(1));
        Assert.Contains(3, await LeaseMany(pool, Pro, 4));
    }

    [Fact]
    public async Task An_invalid_key_leaves_every_model_for_good()
    {
        var pool = fixture.NewPool();
        Assert.Contains(0, await LeaseMany(pool, Flash, 4)); // a ring that exists before the key is found invalid
        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[0], Flash, UpstreamOutcome.InvalidKey, null, "400 API key not valid"));

        Assert.DoesNotContain(0, await LeaseMany(pool, Flash, 9));
        Assert.DoesNotContain(0, await LeaseMany(pool, Pro, 9));
        fixture.Clock.Advance(TimeSpan.FromDays(2));
        Assert.DoesNotContain(0, await LeaseMany(pool, "text-embedding-004", 9));
        var status = await pool.GetStatusAsync();
        Assert.Equal("400 API key not valid", status.Keys[0].Invalid?.Reason);
    }

    [Fact]
    public async Task Excluded_keys_are_skipped_for_a_retry()
    {
        var pool = fixture.NewPool();
        var lease = await pool.LeaseAsync(Flash, 1, new TriedKeys([0, 1]));
        Assert.Equal(2, Assert.Single(lease.Keys).Index);
        var none = await pool.LeaseAsync(Flash, 1, new TriedKeys([0, 1, 2, 3]));
        Assert.Empty(none.Keys);
        Assert.False(none.AllInvalid);
    }

    [Fact]
    public async Task When_every_key_cools_the_lease_says_when_the_first_returns()
    {
        var pool = fixture.NewPool();
        for (var i = 0; i < PoolClusterFixture.KeyCount; i++)
        {
            await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[i], Flash, UpstreamOutcome.RateLimited, TimeSpan.FromSeconds(20 + i)));
        }

        var lease = await pool.LeaseAsync(Flash);

        Assert.Empty(lease.Keys);
        Assert.False(lease.AllInvalid);
        Assert.Equal(Now + TimeSpan.FromSeconds(20), lease.RetryAt);
        Assert.NotEmpty((await pool.LeaseAsync(Pro)).Keys);
    }

    [Fact]
    public async Task When_every_key_is_invalid_the_lease_says_so()
    {
        var pool = fixture.NewPool();
        foreach (var alias in fixture.Aliases)
        {
            await pool.PenalizeAsync(new AttemptReport(alias, Flash, UpstreamOutcome.InvalidKey));
        }

        var lease = await pool.LeaseAsync(Pro);

        Assert.Empty(lease.Keys);
        Assert.True(lease.AllInvalid);
        Assert.Null(lease.RetryAt);
    }

    [Fact]
    public async Task A_batch_sent_again_after_a_lost_acknowledgement_is_counted_once()
    {
        var pool = fixture.NewPool();
        var frontend = Guid.NewGuid();
        var success = new AttemptReport(fixture.Aliases[1], Flash, UpstreamOutcome.Success);

        await pool.RecordAsync(new ReportBatch(frontend, 1, [success, success]));
        await pool.RecordAsync(new ReportBatch(frontend, 1, [success, success])); // the same batch again
        await pool.RecordAsync(new ReportBatch(frontend, 2, [success]));
        await pool.RecordAsync(new ReportBatch(Guid.NewGuid(), 1, [success])); // another frontend's first batch

        Assert.Equal(4, (await pool.GetStatusAsync()).Keys[1].Lifetime[Flash].Successes);
    }

    [Fact]
    public async Task Affinity_waits_ride_in_report_batches_counted_once_under_the_owning_key_and_kept_across_activations()
    {
        var pool = fixture.Grains.GetGrain<IKeyPoolGrain>(Guid.NewGuid().ToString("N"));
        var owner = fixture.Aliases[2];
        await pool.PenalizeAsync(new AttemptReport(owner, Flash, UpstreamOutcome.RateLimited, TimeSpan.FromSeconds(1), "429 rate limited"));
        var frontend = Guid.NewGuid();
        AffinityWait[] waits = [new(owner.Fingerprint, Flash), new(owner.Fingerprint, Flash)];

        await pool.RecordAsync(new ReportBatch(frontend, 1, [], waits));
        await pool.RecordAsync(new ReportBatch(frontend, 1, [], waits)); // the same batch again
        await pool.RecordAsync(new ReportBatch(Guid.NewGuid(), 1, [], [new(owner.Fingerprint, Flash)])); // another frontend's
        await fixture.Cluster.DeactivateAsync(((GrainReference)pool).GrainId);
        var status = await pool.GetStatusAsync();

        Assert.Equal(3, status.Keys[2].Lifetime[Flash].AffinityWaits);
        Assert.Equal(1, status.Keys[2].Lifetime[Flash].Attempts); // the 429: a wait is not an attempt
        Assert.All(status.Keys.Where(key => key.Key != owner), key => Assert.Equal(0, key.Lifetime.GetValueOrDefault(Flash)?.AffinityWaits ?? 0));
    }

    [Fact]
    public async Task Success_and_client_errors_change_no_key_state_but_are_counted()
    {
        var pool = fixture.NewPool();
        var key = fixture.Aliases[0];
        await pool.RecordAsync(Batch(new AttemptReport(key, Flash, UpstreamOutcome.Success)));
        await pool.RecordAsync(Batch(new AttemptReport(key, Flash, UpstreamOutcome.ClientError)));
        await pool.RecordAsync(Batch(new AttemptReport(key, Flash, UpstreamOutcome.Transient)));

        var status = await pool.GetStatusAsync(); // acknowledged: applied
        Assert.Equal(3, status.Keys[0].Lifetime[Flash].Attempts);
        Assert.Equal((1, 1, 1), (status.Keys[0].Lifetime[Flash].Successes, status.Keys[0].Lifetime[Flash].ClientErrors, status.Keys[0].Lifetime[Flash].Transient));
        Assert.Empty(status.Keys[0].Cooldowns);
        Assert.Null(status.Keys[0].Invalid);
        Assert.Equal(4, (await LeaseMany(pool, Flash, 4)).Distinct().Count());
    }

    [Fact]
    public async Task A_reactivated_pool_keeps_cooldowns_invalid_marks_and_flushed_counters()
    {
        var poolId = Guid.NewGuid().ToString("N");
        var pool = fixture.Grains.GetGrain<IKeyPoolGrain>(poolId);
        await UseMany(pool, Flash, 8);
        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[1], Flash, UpstreamOutcome.RateLimited, TimeSpan.FromMinutes(10), "429 rate limited"));
        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[2], Flash, UpstreamOutcome.InvalidKey, null, "403 permission denied"));

        await fixture.Cluster.DeactivateAsync(((GrainReference)pool).GrainId);
        var status = await pool.GetStatusAsync();

        Assert.Contains(Flash, status.Keys[1].Cooldowns.Keys);
        Assert.Equal("403 permission denied", status.Keys[2].Invalid?.Reason);
        // two successes each, and the failed attempt of the penalized keys
        Assert.Equal([2, 3, 3, 2], status.Keys.Select(key => key.Lifetime[Flash].Attempts));
        Assert.Equal(1, status.Keys[1].Lifetime[Flash].RateLimited);
        var leases = await LeaseMany(pool, Flash, 6);
        Assert.DoesNotContain(1, leases);
        Assert.DoesNotContain(2, leases);
    }

    [Fact]
    public async Task Counters_reach_the_key_grains_behind_the_requests()
    {
        var poolId = Guid.NewGuid().ToString("N");
        var pool = fixture.Grains.GetGrain<IKeyPoolGrain>(poolId);
        await UseMany(pool, Flash, 4);
        var keyGrain = fixture.Grains.GetGrain<IKeyGrain>($"{poolId}/{fixture.Aliases[0].Fingerprint}");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        long persisted = 0;
        while (DateTime.UtcNow < deadline && persisted == 0)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
            var record = await keyGrain.GetAsync();
            persisted = record.Models.TryGetValue(Flash, out var counters) ? counters.Attempts : 0;
        }
        Assert.Equal(1, persisted);
    }

    [Fact]
    public async Task Names_upstream_never_served_are_counted_together_and_leave_no_state_of_their_own()
    {
        var pool = fixture.NewPool();
        for (var i = 0; i < 300; i++)
        {
            var madeUp = $"made-up-{i}";
            var lease = await pool.LeaseAsync(madeUp);
            await pool.RecordAsync(Batch(new AttemptReport(lease.Keys[0], madeUp, UpstreamOutcome.ClientError, Reason: "404 NOT_FOUND")));
        }

        var status = await pool.GetStatusAsync();
        Assert.All(status.Keys.SelectMany(key => key.Lifetime.Keys.Concat(key.Recent.Keys)), name => Assert.Equal(KnownModels.Unknown, name));
        Assert.Equal(300, status.Keys.Sum(key => key.Lifetime.GetValueOrDefault(KnownModels.Unknown)?.ClientErrors ?? 0));
        Assert.Equal(300, status.Keys.Sum(key => key.Recent.GetValueOrDefault(KnownModels.Unknown)));
    }

    [Fact]
    public async Task A_model_is_counted_under_its_name_from_its_first_answer_and_keeps_its_place_in_the_ring()
    {
        var pool = fixture.NewPool();
        var first = await pool.LeaseAsync(Pro, 2);
        await pool.RecordAsync(Batch(
            new AttemptReport(first.Keys[0], Pro, UpstreamOutcome.Transient, Reason: "503 UNAVAILABLE"), // says nothing of the model
            new AttemptReport(first.Keys[1], Pro, UpstreamOutcome.Success)));
        await pool.RecordAsync(Batch(new AttemptReport(first.Keys[0], Pro, UpstreamOutcome.ClientError, Reason: "400 INVALID_ARGUMENT")));

        var next = await pool.LeaseAsync(Pro, 3);
        Assert.Equal([0, 1], Indexes(first));
        Assert.Equal([2, 3, 0], Indexes(next)); // the ring goes on where it was
        var status = await pool.GetStatusAsync();
        Assert.Equal(1, status.Keys[0].Lifetime[KnownModels.Unknown].Transient);
        Assert.Equal(1, status.Keys[1].Lifetime[Pro].Successes);
        Assert.Equal(1, status.Keys[0].Lifetime[Pro].ClientErrors); // known now: its client errors count under its name
    }

    [Fact]
    public async Task A_first_rate_limit_makes_a_model_known_and_cools_the_key_for_it()
    {
        var pool = fixture.NewPool();
        await pool.PenalizeAsync(new AttemptReport(fixture.Aliases[2], Pro, UpstreamOutcome.RateLimited, TimeSpan.FromSeconds(30)));

        var status = await pool.GetStatusAsync();
        Assert.Contains(Pro, status.Keys[2].Cooldowns.Keys);
        Assert.Equal(1, status.Keys[2].Lifetime[Pro].RateLimited);
        Assert.DoesNotContain(2, await LeaseMany(pool, Pro, 6));
    }

    [Fact]
    public async Task Rotations_of_names_not_known_are_bounded_and_start_over_past_the_bound()
    {
        var pool = fixture.NewPool();
        Assert.Equal(0, await LeaseIndex(pool, "made-up"));
        Assert.Equal(1, await LeaseIndex(pool, "made-up"));
        for (var i = 0; i < KnownModels.MaxUnknownTracked; i++)
        {
            await LeaseIndex(pool, $"other-{i}");
        }

        Assert.Equal(0, await LeaseIndex(pool, "made-up")); // forgotten with the others: a new ring
        Assert.Equal(0, await LeaseIndex(pool, "other-0"));
    }

    [Fact]
    public async Task No_more_than_the_bound_of_names_is_ever_known()
    {
        var pool = fixture.NewPool();
        var key = fixture.Aliases[0];
        await pool.RecordAsync(Batch([.. Enumerable.Range(0, KnownModels.MaxCount + 5)
            .Select(i => new AttemptReport(key, $"served-{i}", UpstreamOutcome.Success))]));
        await pool.PenalizeAsync(new AttemptReport(key, "served-past-the-bound", UpstreamOutcome.RateLimited, TimeSpan.FromSeconds(30)));

        var status = await pool.GetStatusAsync();
        Assert.Equal(KnownModels.MaxCount + 1, status.Keys[0].Lifetime.Count);
        Assert.Equal(6, status.Keys[0].Lifetime[KnownModels.Unknown].Attempts);
        Assert.Empty(status.Keys[0].Cooldowns); // its keys are not cooled under a name the pool does not keep
    }

    [Fact]
    public async Task A_reactivated_pool_knows_the_models_it_counted_and_shows_stored_unknown_names_together()
    {
        var poolId = Guid.NewGuid().ToString("N");
        var keyGrain = fixture.Grains.GetGrain<IKeyGrain>($"{poolId}/{fixture.Aliases[0].Fingerprint}");
        // as an earlier version stored them: every name upstream was asked for, made-up ones too
        await keyGrain.AddCountersAsync(new()
        {
            [Flash] = new ModelCounters { Attempts = 5, Successes = 5 },
            ["typo-1"] = new ModelCounters { Attempts = 2, ClientErrors = 2 },
            ["typo-2"] = new ModelCounters { Attempts = 1, ClientErrors = 1 },
        });
        var pool = fixture.Grains.GetGrain<IKeyPoolGrain>(poolId);

        await pool.RecordAsync(Batch(new AttemptReport(fixture.Aliases[0], Flash, UpstreamOutcome.ClientError)));
        var status = await pool.GetStatusAsync();

        Assert.Equal([KnownModels.Unknown, Flash], status.Keys[0].Lifetime.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(3, status.Keys[0].Lifetime[KnownModels.Unknown].ClientErrors);
        Assert.Equal((6, 1), (status.Keys[0].Lifetime[Flash].Attempts, status.Keys[0].Lifetime[Flash].ClientErrors));
    }

    private static async Task<PoolStatus> Eventually(IKeyPoolGrain pool, Func<PoolStatus, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var status = await pool.GetStatusAsync();
        while (!condition(status) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
            status = await pool.GetStatusAsync();
        }
        Assert.True(condition(status), "the pool did not reach the expected state in 10 s");
        return status;
    }

    /// <summary>Leases keys one at a time and reports a success for each, as a frontend does; waits until all are counted.</summary>
    private async Task UseMany(IKeyPoolGrain pool, string model, int count)
    {
        var used = await LeaseMany(pool, model, count);
        await pool.RecordAsync(Batch([.. used.Select(index => new AttemptReport(fixture.Aliases[index], model, UpstreamOutcome.Success))]));
        await Eventually(pool, status => status.Keys.Sum(key => key.Lifetime.GetValueOrDefault(model)?.Successes ?? 0) == count);
    }

    /// <summary>A frontend's batch: a new sender each time, so every batch is applied.</summary>
    private static ReportBatch Batch(params AttemptReport[] reports) => new(Guid.NewGuid(), 1, reports);

    private static int[] Indexes(KeyLease lease) => [.. lease.Keys.Select(key => key.Index)];

    private static async Task<int> LeaseIndex(IKeyPoolGrain pool, string model) =>
        (await pool.LeaseAsync(model)).Keys.FirstOrDefault()?.Index ?? -1;

    private static async Task<List<int>> LeaseMany(IKeyPoolGrain pool, string model, int count)
    {
        var leased = new List<int>(count);
        for (var i = 0; i < count; i++)
        {
            leased.Add(await LeaseIndex(pool, model));
        }
        return leased;
    }
}

/// <summary>A frontend's side of the subscription, recording what the pool tells it.</summary>
internal sealed class RecordingObserver : IKeyPoolObserver
{
    private readonly Lock _lock = new();
    private readonly List<KeyWithdrawal> _heard = [];

    public IReadOnlyList<KeyWithdrawal> Heard
    {
        get
        {
            lock (_lock)
            {
                return [.. _heard];
            }
        }
    }

    private readonly TaskCompletionSource _moving = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the pool announced that its activation is going away.</summary>
    public Task Moving => _moving.Task;

    public Task PoolMovingAsync()
    {
        _moving.TrySetResult();
        return Task.CompletedTask;
    }

    public Task KeyWithdrawnAsync(KeyWithdrawal withdrawal)
    {
        lock (_lock)
        {
            _heard.Add(withdrawal);
        }
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<KeyWithdrawal>> WaitForAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Heard.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
        Assert.True(Heard.Count >= count, $"heard {Heard.Count} withdrawals, expected {count}");
        return Heard;
    }
}
