namespace GeminiParty.Grains.Tests;

public sealed class QuotaResetTests
{
    [Theory]
    [InlineData("2026-11-26T10:00:00Z", "2026-11-27T08:00:00Z")] // 02:00 PST -> next midnight PST (UTC-8)
    [InlineData("2026-11-27T07:59:00Z", "2026-11-27T08:00:00Z")] // one minute before midnight
    [InlineData("2026-07-01T12:00:00Z", "2026-07-02T07:00:00Z")] // summer: PDT is UTC-7
    [InlineData("2026-03-08T09:00:00Z", "2026-03-09T07:00:00Z")] // 01:00 PST on the day DST starts: the next midnight is PDT
    public void Next_Pacific_midnight(string now, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected), QuotaReset.NextPacificMidnight(DateTimeOffset.Parse(now)));
}
