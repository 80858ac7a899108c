using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Tests;

/// <summary>How the pool's calls reach this frontend's lease cache, through <see cref="PoolWithdrawals"/> alone.</summary>
[Collection(ForwardingPartsCollection.Name)]
public sealed class PoolWithdrawalsTests(ForwardingPartsFixture frontend)
{
    private KeyLeases Leases => frontend.Part<KeyLeases>();

    private IKeyPoolObserver Observer => frontend.Part<PoolWithdrawals>();

    /// <summary>Leases at once for many requests, so the frontend reads ahead and holds keys of the model.</summary>
    private async Task<int> HoldKeysAsync(string model)
    {
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Leases.NextAsync(model, null, TestContext.Current.CancellationToken).AsTask()));
        return await Leases.HeldWhenSettledAsync(model);
    }

    [Fact]
    public async Task Keys_the_pool_withdraws_for_a_model_are_no_longer_held_for_it()
    {
        var model = FrontendFixture.NewModel();
        var other = FrontendFixture.NewModel();
        Assert.True(await HoldKeysAsync(model) > 0, "the frontend read ahead");
        var otherHeld = await HoldKeysAsync(other);
        var version = (await frontend.Pool.LeaseAsync(model)).Version;

        foreach (var key in await frontend.EveryKeyAsync(FrontendFixture.NewModel()))
        {
            await Observer.KeyWithdrawnAsync(new KeyWithdrawal(key, model, version));
        }

        Assert.Equal(0, (Leases.Holding(model)).Held);
        Assert.Equal(otherHeld, (Leases.Holding(other)).Held); // a withdrawal for one model leaves the others' keys alone
    }

    [Fact]
    public async Task The_pool_announcing_its_move_wakes_whoever_waits_for_it()
    {
        var moving = frontend.Part<PoolWithdrawals>().PoolMoving;
        Assert.False(moving.IsCompleted);

        await Observer.PoolMovingAsync();

        await moving.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(frontend.Part<PoolWithdrawals>().PoolMoving.IsCompleted); // the next announcement has a task of its own
    }
}
