using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Tests;

/// <summary>What an attempt's outcome does to its key, told through <see cref="AttemptOutcomes"/> alone.</summary>
[Collection(ForwardingPartsCollection.Name)]
public sealed class AttemptOutcomesTests(ForwardingPartsFixture frontend)
{
    private AttemptOutcomes Outcomes => frontend.Part<AttemptOutcomes>();

    private KeyLeases Leases => frontend.Part<KeyLeases>();

    [Fact]
    public async Task A_rate_limited_key_is_not_handed_out_again_for_its_model_and_cools_in_the_pool()
    {
        var model = FrontendFixture.NewModel();
        var limited = (await Leases.NextAsync(model, null, TestContext.Current.CancellationToken)).Key!;

        await Outcomes.FailedAsync(limited, model, 429,
            new UpstreamClassification(UpstreamOutcome.RateLimited, TimeSpan.FromHours(1), "quota exceeded"));

        for (var i = 0; i < 12; i++)
        {
            Assert.NotEqual(limited.Index, (await Leases.NextAsync(model, null, TestContext.Current.CancellationToken)).Key!.Index);
        }
        var status = await frontend.Pool.GetStatusAsync();
        Assert.True(status.Keys[limited.Index].Cooldowns.ContainsKey(model), "the pool heard of the 429 before FailedAsync returned");
    }

    [Fact]
    public async Task A_client_error_leaves_the_key_in_rotation()
    {
        var model = FrontendFixture.NewModel();
        var key = (await Leases.NextAsync(model, null, TestContext.Current.CancellationToken)).Key!;

        await Outcomes.FailedAsync(key, model, 400,
            new UpstreamClassification(UpstreamOutcome.ClientError, null, "bad request"));

        var next = new List<int>();
        for (var i = 0; i < FrontendFixture.Keys.Length * 2; i++)
        {
            next.Add((await Leases.NextAsync(model, null, TestContext.Current.CancellationToken)).Key!.Index);
        }
        Assert.Contains(key.Index, next);
        Assert.DoesNotContain(model, (await frontend.Pool.GetStatusAsync()).Keys[key.Index].Cooldowns.Keys);
    }

    [Fact]
    public async Task A_failure_that_blames_no_key_answers_502_and_keeps_the_key()
    {
        var model = FrontendFixture.NewModel();
        var key = (await Leases.NextAsync(model, null, TestContext.Current.CancellationToken)).Key!;

        var failure = Outcomes.Transient(key, model, "connection failed: Request");

        Assert.Equal(502, failure.Status);
        Assert.Equal(UpstreamOutcome.Transient, failure.Classification.Outcome);
        Assert.Contains("connection failed", failure.Classification.Reason);
        var keys = await frontend.EveryKeyAsync(model);
        Assert.Contains(keys, alias => alias.Index == key.Index);
    }
}
