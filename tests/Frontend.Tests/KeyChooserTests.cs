using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Tests;

/// <summary>Where the next attempt's key comes from, asked of <see cref="KeyChooser"/> alone.</summary>
[Collection(ForwardingPartsCollection.Name)]
public sealed class KeyChooserTests(ForwardingPartsFixture frontend)
{
    private KeyChooser Chooser => frontend.Part<KeyChooser>();

    private static TriedKeys EveryKeyTried() => new(Enumerable.Range(0, FrontendFixture.Keys.Length).ToArray());

    [Fact]
    public async Task A_request_that_tried_every_key_gets_none_more()
    {
        var lease = await Chooser.NextAsync(FrontendFixture.NewModel(), EveryKeyTried(), lastTransient: false, TestContext.Current.CancellationToken);

        Assert.Null(lease.Key);
    }

    [Fact]
    public async Task Keys_already_tried_are_tried_again_when_the_last_failure_blamed_none()
    {
        var lease = await Chooser.NextAsync(FrontendFixture.NewModel(), EveryKeyTried(), lastTransient: true, TestContext.Current.CancellationToken);

        Assert.NotNull(lease.Key);
    }

    [Fact]
    public async Task The_usable_owner_of_a_resource_serves_it()
    {
        var model = FrontendFixture.NewModel();
        var owner = (await frontend.EveryKeyAsync(model))[1];
        var context = ForwardingPartsFixture.NewContext();

        var lease = await Chooser.OwnerAsync(context, ForwardingPartsFixture.NativeCall(model), owner.Fingerprint, TestContext.Current.CancellationToken);

        Assert.Equal(owner, lease?.Key);
        Assert.Equal(0, context.Response.Body.Length);
    }

    [Fact]
    public async Task An_owner_cooling_past_the_affinity_wait_is_answered_429_without_a_key()
    {
        var model = FrontendFixture.NewModel();
        var owner = (await frontend.EveryKeyAsync(model))[2];
        await frontend.Pool.PenalizeAsync(new AttemptReport(owner, model, UpstreamOutcome.RateLimited, TimeSpan.FromHours(1), "quota exceeded"));
        var context = ForwardingPartsFixture.NewContext();

        var lease = await Chooser.OwnerAsync(context, ForwardingPartsFixture.NativeCall(model), owner.Fingerprint, TestContext.Current.CancellationToken);

        Assert.Null(lease);
        Assert.Equal(429, context.Response.StatusCode);
        Assert.Contains("cooling down", ForwardingPartsFixture.ResponseText(context));
    }

    [Fact]
    public async Task An_owner_the_pool_does_not_know_asks_for_the_resource_to_be_made_again()
    {
        var context = ForwardingPartsFixture.NewContext();

        var lease = await Chooser.OwnerAsync(context, ForwardingPartsFixture.NativeCall(FrontendFixture.NewModel()), "0123456789abcdef", TestContext.Current.CancellationToken);

        Assert.Null(lease);
        Assert.Equal(400, context.Response.StatusCode);
        Assert.Contains("FAILED_PRECONDITION", ForwardingPartsFixture.ResponseText(context));
    }
}
