using GeminiParty.Frontend.Forwarding;
using Microsoft.Extensions.DependencyInjection;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// The frontend leases keys request by request at light load and ahead of use under load, and hands them out in the
/// pool's order; the pool's withdrawals reach the keys it holds. The gateway has 3 keys and the default LEASE_BATCH (64).
/// </summary>
[Collection(FrontendCollection.Name)]
public sealed class LeaseBatchingTests(FrontendFixture gateway)
{
    private const int DefaultLeaseBatch = 64;

    private IKeyPoolGrain Pool => gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool);

    private KeyLeases Leases => gateway.Services.GetRequiredService<KeyLeases>();

    private static KeyAlias Alias(int index) => UpstreamKeyList.Aliases(FrontendFixture.Keys)[index];

    [Fact]
    public async Task Sequential_requests_hold_no_key_so_each_comes_from_the_pool_in_ring_order()
    {
        var model = FrontendFixture.NewModel();

        for (var i = 0; i < 9; i++)
        {
            await PostAsync(model);
        }

        Assert.Equal([0, 1, 2, 0, 1, 2, 0, 1, 2], gateway.KeysSeenFor(model));
        Assert.Equal(0, await Leases.HeldWhenSettledAsync(model)); // light load: nothing read ahead
        Assert.Equal(0, Assert.Single((await Pool.LeaseAsync(model)).Keys).Index); // the pool is exactly at the next key
    }

    [Fact]
    public async Task A_burst_reads_further_ahead_but_never_holds_more_than_LEASE_BATCH()
    {
        var model = FrontendFixture.NewModel();

        // whether requests overlap enough to read ahead depends on the machine's timing: a burst that happened not to is repeated
        var (bursts, held) = await BurstUntilHeldAsync(model, 150);

        var perKey = gateway.KeysSeenFor(model).CountBy(index => index).ToDictionary();
        Assert.All(perKey.Values, count => Assert.Equal(50 * bursts, count)); // consecutive keys of the ring
        Assert.InRange(held, 1, DefaultLeaseBatch);
        Assert.Equal((150 * bursts + held) % 3, Assert.Single((await Pool.LeaseAsync(model)).Keys).Index);
    }

    [Fact]
    public async Task A_key_the_pool_withdraws_leaves_the_keys_this_frontend_holds()
    {
        var model = FrontendFixture.NewModel();
        await BurstAsync(model); // requests waited behind one another: the frontend now holds keys ahead
        var used = gateway.KeysSeenFor(model).Count();
        Assert.True(await Leases.HeldWhenSettledAsync(model) >= 1);

        // another frontend meets a rate limit on key 1: the pool cools it and tells every frontend
        await Pool.PenalizeAsync(new AttemptReport(Alias(1), model, UpstreamOutcome.RateLimited, TimeSpan.FromMinutes(5), "429 elsewhere"));
        await WaitForLogAsync($"withdrew key #1 for {model}");
        for (var i = 0; i < 6; i++)
        {
            await PostAsync(model);
        }

        Assert.DoesNotContain(1, gateway.KeysSeenFor(model).Skip(used)); // neither the held turns nor the pool's use key 1
    }

    [Fact]
    public async Task An_invalid_key_leaves_the_held_keys_of_every_model()
    {
        var first = FrontendFixture.NewModel();
        var second = FrontendFixture.NewModel();
        await BurstAsync(first);
        await BurstAsync(second); // both models hold keys ahead
        var heldFirst = await Leases.HeldWhenSettledAsync(first);
        var heldSecond = await Leases.HeldWhenSettledAsync(second);

        var pool = await Pool.LeaseAsync(FrontendFixture.NewModel()); // the pool's current version

        // told as the pool would tell it, but with no pool state changed: only what this frontend holds can drop key 2
        await ((IKeyPoolObserver)gateway.Services.GetRequiredService<PoolWithdrawals>()).KeyWithdrawnAsync(new KeyWithdrawal(Alias(2), null, pool.Version));

        Assert.Equal(heldFirst - HeldCopiesOfKey2(heldFirst), await Leases.HeldWhenSettledAsync(first));
        Assert.Equal(heldSecond - HeldCopiesOfKey2(heldSecond), await Leases.HeldWhenSettledAsync(second));
        // what is held comes out without key 2; then the pool, which still rotates key 2, hands out keys in ring order
        var used = new List<int>();
        for (var i = 0; i < heldSecond - HeldCopiesOfKey2(heldSecond) + 3; i++)
        {
            used.Add((await Leases.NextAsync(second, null, TestContext.Current.CancellationToken)).Key!.Index);
        }
        var expectedHeld = Enumerable.Range(Burst, heldSecond).Select(i => i % 3).Where(index => index != 2);
        var next = (Burst + heldSecond) % 3;
        Assert.Equal([.. expectedHeld, next, (next + 1) % 3, (next + 2) % 3], used);

        // held keys start after the burst's, in ring order
        static int HeldCopiesOfKey2(int held) => Enumerable.Range(Burst, held).Count(i => i % 3 == 2);
    }

    [Fact]
    public async Task A_request_that_stops_waiting_leaves_its_lease_to_the_next_request()
    {
        var model = FrontendFixture.NewModel();
        using var gone = new CancellationTokenSource();
        await gone.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Leases.NextAsync(model, null, gone.Token).AsTask());

        // the lease it started went on: the next request takes its first key, and the pool's next key follows those held
        Assert.Equal(0, (await Leases.NextAsync(model, null, TestContext.Current.CancellationToken)).Key?.Index);
        var held = await Leases.HeldWhenSettledAsync(model);
        Assert.Equal((1 + held) % 3, Assert.Single((await Pool.LeaseAsync(model)).Keys).Index);
    }

    private const int Burst = 30;

    /// <summary>Concurrent requests, which wait behind one another for leases and so make the frontend read ahead.</summary>
    private Task BurstAsync(string model) => BurstUntilHeldAsync(model, Burst);

    /// <summary>
    /// Bursts of <paramref name="size"/> concurrent requests until the frontend holds keys ahead (at most five): whether
    /// one burst's requests wait behind one another, which is what reads ahead, depends on the machine's timing.
    /// </summary>
    private async Task<(int Bursts, int Held)> BurstUntilHeldAsync(string model, int size)
    {
        var bursts = 0;
        int held;
        do
        {
            await Task.WhenAll(Enumerable.Range(0, size).Select(_ => PostAsync(model)));
            bursts++;
            held = await Leases.HeldWhenSettledAsync(model);
        }
        while (held == 0 && bursts < 5);
        return (bursts, held);
    }

    private async Task PostAsync(string model)
    {
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        Assert.Equal(200, (int)response.StatusCode);
    }

    private async Task WaitForLogAsync(string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!gateway.Logs.Lines.Any(line => line.Contains(text, StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
        Assert.Contains(gateway.Logs.Lines, line => line.Contains(text, StringComparison.Ordinal));
    }
}

/// <summary>LEASE_BATCH=1: no read-ahead, so the pool's rotation is exact whatever the number of frontends.</summary>
public sealed class ExactRotationFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string> { ["LEASE_BATCH"] = "1" };
}

public sealed class ExactRotationTests(ExactRotationFrontendFixture gateway) : IClassFixture<ExactRotationFrontendFixture>
{
    [Fact]
    public async Task With_LEASE_BATCH_1_no_key_is_held_and_the_pool_is_exactly_at_the_next_key()
    {
        var model = FrontendFixture.NewModel();
        var leases = gateway.Services.GetRequiredService<KeyLeases>();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
            Assert.Equal(200, (int)response.StatusCode);
        }));

        Assert.Equal(0, await leases.HeldWhenSettledAsync(model));
        var pool = gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool);
        Assert.Equal(20 % 3, Assert.Single((await pool.LeaseAsync(model)).Keys).Index);
    }
}
