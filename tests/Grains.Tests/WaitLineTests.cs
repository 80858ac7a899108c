namespace GeminiParty.Grains.Tests;

/// <summary>The pool's line per model: while every key cools, requests queue, and returning keys go to the head first.</summary>
[Collection(PoolClusterCollection.Name)]
public sealed class WaitLineTests(PoolClusterFixture fixture)
{
    private const string Flash = "gemini-2.0-flash";
    private static readonly TimeSpan Cooldown = TimeSpan.FromSeconds(30);

    private DateTimeOffset Now => fixture.Clock.GetUtcNow();

    [Fact]
    public async Task A_returning_key_goes_to_the_longest_waiter_whoever_claims_first_and_newcomers_queue_behind()
    {
        var pool = await AllCoolingAsync();
        var back = Now + Cooldown;
        var deadline = Now + TimeSpan.FromMinutes(1);
        var first = await pool.JoinLineAsync(Flash, deadline, 10);
        var second = await pool.JoinLineAsync(Flash, deadline, 10);
        Assert.True(first.Admitted && second.Admitted);
        Assert.Equal(back, first.ExpectedAt);
        Assert.Equal(2, (await pool.GetStatusAsync()).Waiting![Flash]);

        // too early: the keys still cool, the ticket keeps its place and is told when to claim again
        var early = await pool.ClaimAsync(Flash, second.Id, deadline);
        Assert.Empty(early.Keys);
        Assert.Equal(back, early.RetryAt);

        fixture.Clock.Advance(Cooldown + TimeSpan.FromSeconds(1));
        Assert.Empty((await pool.LeaseAsync(Flash)).Keys); // a newcomer gets no key while others wait for one
        var secondClaim = pool.ClaimAsync(Flash, second.Id, deadline).AsTask();
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.False(secondClaim.IsCompleted, "the second in line got a key before the first");

        Assert.Single((await pool.ClaimAsync(Flash, first.Id, deadline)).Keys);
        Assert.Single((await secondClaim.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Keys);
        Assert.Single((await pool.LeaseAsync(Flash)).Keys); // the line is empty: leases serve at once again
        Assert.Empty((await pool.GetStatusAsync()).Waiting!);
    }

    [Fact]
    public async Task A_request_whose_wait_ends_first_is_not_let_in_nor_one_past_MAX_WAITING()
    {
        var pool = await AllCoolingAsync();

        var tooSoon = await pool.JoinLineAsync(Flash, Now + Cooldown - TimeSpan.FromSeconds(1), 10);
        Assert.False(tooSoon.Admitted);
        Assert.Equal(Now + Cooldown, tooSoon.ExpectedAt); // the 429 says when to come back

        Assert.True((await pool.JoinLineAsync(Flash, Now + TimeSpan.FromMinutes(1), 1)).Admitted);
        var full = await pool.JoinLineAsync(Flash, Now + TimeSpan.FromMinutes(1), 1);
        Assert.False(full.Admitted);
        Assert.True(full.LineFull);
    }

    [Fact]
    public async Task A_waiter_that_leaves_lets_the_next_one_take_the_key_at_once()
    {
        var pool = await AllCoolingAsync();
        var deadline = Now + TimeSpan.FromMinutes(1);
        var gone = await pool.JoinLineAsync(Flash, deadline, 10);
        var next = await pool.JoinLineAsync(Flash, deadline, 10);
        fixture.Clock.Advance(Cooldown + TimeSpan.FromSeconds(1));
        var claim = pool.ClaimAsync(Flash, next.Id, deadline).AsTask();

        await pool.LeaveLineAsync(Flash, gone.Id);

        Assert.Single((await claim.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Keys);
    }

    [Fact]
    public async Task A_ticket_the_pool_does_not_know_joins_the_tail_and_is_served_when_it_is_the_head()
    {
        var pool = await AllCoolingAsync();
        fixture.Clock.Advance(Cooldown + TimeSpan.FromSeconds(1));

        var lease = await pool.ClaimAsync(Flash, 42, Now + TimeSpan.FromMinutes(1)); // as after the pool moved to another silo

        Assert.Single(lease.Keys);
    }

    /// <summary>A pool of its own whose every key cools for <see cref="Flash"/> for <see cref="Cooldown"/>.</summary>
    private async Task<IKeyPoolGrain> AllCoolingAsync()
    {
        var pool = fixture.NewPool();
        foreach (var key in fixture.Aliases)
        {
            await pool.PenalizeAsync(new AttemptReport(key, Flash, UpstreamOutcome.RateLimited, Cooldown, "429"));
        }
        var lease = await pool.LeaseAsync(Flash);
        Assert.Empty(lease.Keys);
        return pool;
    }
}
