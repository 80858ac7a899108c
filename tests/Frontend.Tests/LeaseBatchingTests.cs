using GeminiParty.Frontend.Forwarding;
using Microsoft.Extensions.DependencyInjection;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// The frontend leases a turn of the rotation per pool call and hands it out request by request; the pool's
/// withdrawals reach the keys it holds.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class LeaseBatchingTests(GatewayFixture gateway)
{
    private IKeyPoolGrain Pool => gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool);

    private static KeyAlias Alias(int index) => UpstreamKeyList.Aliases(GatewayFixture.Keys)[index];

    [Fact]
    public async Task One_pool_call_leases_a_whole_turn_and_requests_use_it_in_ring_order()
    {
        var model = GatewayFixture.NewModel();

        await PostAsync(model);

        // the frontend took keys 0, 1 and 2 in one call: the pool's next turn starts at key 0 again
        var next = await Pool.LeaseAsync(model);
        Assert.Equal(0, Assert.Single(next.Keys).Index);
        for (var i = 0; i < 8; i++)
        {
            await PostAsync(model);
        }
        Assert.Equal([0, 1, 2, 1, 2, 0, 1, 2, 0], gateway.KeysSeenFor(model)); // the turn held, then whole turns
    }

    [Fact]
    public async Task Concurrent_requests_share_the_held_keys_evenly()
    {
        var model = GatewayFixture.NewModel();

        await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => PostAsync(model)));

        var perKey = gateway.KeysSeenFor(model).CountBy(index => index).ToDictionary();
        Assert.Equal(30, perKey.Values.Sum());
        Assert.All(perKey.Values, count => Assert.Equal(10, count));
    }

    [Fact]
    public async Task A_key_the_pool_withdraws_leaves_the_keys_this_frontend_holds()
    {
        var model = GatewayFixture.NewModel();
        await PostAsync(model); // key 0 used; keys 1 and 2 held here

        // another frontend meets a rate limit on key 1: the pool cools it and tells every frontend
        await Pool.PenalizeAsync(new AttemptReport(Alias(1), model, UpstreamOutcome.RateLimited, TimeSpan.FromMinutes(5), "429 elsewhere"));
        await WaitForLogAsync($"withdrew key #1 for {model}");
        for (var i = 0; i < 6; i++)
        {
            await PostAsync(model);
        }

        Assert.Equal([0, 2, 0, 2, 0, 2, 0], gateway.KeysSeenFor(model));
    }

    [Fact]
    public async Task An_invalid_key_leaves_the_held_keys_of_every_model()
    {
        var first = GatewayFixture.NewModel();
        var second = GatewayFixture.NewModel();
        await PostAsync(first);
        await PostAsync(second); // both models hold keys 1 and 2 here
        var leases = gateway.Services.GetRequiredService<KeyLeases>();

        var pool = await Pool.LeaseAsync(GatewayFixture.NewModel()); // the pool's current version

        // told as the pool would tell it, but with no pool state changed: only what this frontend holds can drop key 2
        await ((IKeyPoolObserver)leases).KeyWithdrawnAsync(new KeyWithdrawal(Alias(2), null, pool.Version));

        Assert.Equal(1, (await leases.NextAsync(first, null, TestContext.Current.CancellationToken)).Key?.Index);
        Assert.Equal(1, (await leases.NextAsync(second, null, TestContext.Current.CancellationToken)).Key?.Index);
        // the next turn comes from the pool, which still rotates key 2: the withdrawal concerned only the keys held
        var turn = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            turn.Add((await leases.NextAsync(second, null, TestContext.Current.CancellationToken)).Key!.Index);
        }
        Assert.Equal([0, 1, 2], turn);
    }

    [Fact]
    public async Task A_request_that_stops_waiting_leaves_its_lease_to_the_next_request()
    {
        var model = GatewayFixture.NewModel();
        var leases = gateway.Services.GetRequiredService<KeyLeases>();
        using var gone = new CancellationTokenSource();
        await gone.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leases.NextAsync(model, null, gone.Token).AsTask());

        // the lease it started went on: the next request takes its first key, and the pool handed out one turn only
        Assert.Equal(0, (await leases.NextAsync(model, null, TestContext.Current.CancellationToken)).Key?.Index);
        Assert.Equal(0, Assert.Single((await Pool.LeaseAsync(model)).Keys).Index);
    }

    private async Task PostAsync(string model)
    {
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", GatewayAssertions.Prompt);
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
