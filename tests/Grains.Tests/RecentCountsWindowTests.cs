namespace GeminiParty.Grains.Tests;

/// <summary>The window of the recent counts /rotation-status shows per key.</summary>
public sealed class RecentCountsWindowTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Recent_counts_stay_within_the_window_and_start_again_after_it()
    {
        var window = new RecentCountsWindow(TimeSpan.FromMinutes(1));
        window.StartAt(Start);
        var slot = new KeySlot(new KeyAlias(0, "fingerprint0"), KeyAttributes.Default);
        slot.Count("gemini-2.0-flash", UpstreamOutcome.Success, null, Start);

        window.Roll(Start.AddSeconds(59), [slot]);
        Assert.Equal(1, slot.Recent["gemini-2.0-flash"]);

        window.Roll(Start.AddSeconds(60), [slot]);
        Assert.Empty(slot.Recent);
    }

    [Fact]
    public void Windows_stay_aligned_to_the_first_however_late_they_roll()
    {
        var window = new RecentCountsWindow(TimeSpan.FromMinutes(1));
        window.StartAt(Start);

        window.Roll(Start.AddSeconds(150), []);

        Assert.Equal(Start.AddMinutes(2), window.Start);
    }
}
