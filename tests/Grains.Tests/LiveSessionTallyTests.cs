using Microsoft.Extensions.Time.Testing;

namespace GeminiParty.Grains.Tests;

/// <summary>The pool's sum of the Live sessions every frontend reports open.</summary>
public sealed class LiveSessionTallyTests
{
    private static readonly KeyAlias[] Keys = [.. UpstreamKeyList.Aliases(["key-zero", "key-one", "key-two"])];

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Each_frontends_latest_report_counts_and_they_add_up_per_key()
    {
        var tally = new LiveSessionTally(_clock);
        Guid first = Guid.NewGuid(), second = Guid.NewGuid();

        tally.Apply(new LiveSessionCounts(first, 1, [new(Keys[0], 2)]));
        tally.Apply(new LiveSessionCounts(second, 1, [new(Keys[0], 1), new(Keys[2], 3)]));
        tally.Apply(new LiveSessionCounts(first, 2, [new(Keys[1], 1)])); // replaces the first report of that frontend

        Assert.Equal([1, 1, 3], tally.Totals(Keys));
    }

    [Fact]
    public void A_report_that_arrives_after_a_later_one_is_ignored()
    {
        var tally = new LiveSessionTally(_clock);
        var sender = Guid.NewGuid();

        tally.Apply(new LiveSessionCounts(sender, 5, []));
        tally.Apply(new LiveSessionCounts(sender, 4, [new(Keys[0], 1)]));

        Assert.Equal([0, 0, 0], tally.Totals(Keys));
    }

    [Fact]
    public void A_frontend_that_stops_reporting_drops_out_after_the_lifetime()
    {
        var tally = new LiveSessionTally(_clock);
        tally.Apply(new LiveSessionCounts(Guid.NewGuid(), 1, [new(Keys[1], 2)]));

        _clock.Advance(IKeyPoolGrain.LiveSessionsLifetime - TimeSpan.FromSeconds(1));
        Assert.Equal([0, 2, 0], tally.Totals(Keys));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([0, 0, 0], tally.Totals(Keys));
    }

    [Fact]
    public void A_key_this_pool_does_not_have_is_not_counted()
    {
        var tally = new LiveSessionTally(_clock);
        var stranger = UpstreamKeyList.Aliases(["not-in-this-pool"])[0];

        tally.Apply(new LiveSessionCounts(Guid.NewGuid(), 1, [new(stranger, 4), new(new KeyAlias(9, "x"), 1)]));

        Assert.Equal([0, 0, 0], tally.Totals(Keys));
    }
}
