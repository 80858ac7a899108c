namespace GeminiParty;

/// <summary>When Gemini's daily quotas reset: midnight in America/Los_Angeles.</summary>
public static class QuotaReset
{
    private static readonly TimeZoneInfo Pacific = FindPacific();

    public static DateTimeOffset NextPacificMidnight(DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(now, Pacific);
        var midnight = local.Date.AddDays(1);
        return new DateTimeOffset(midnight, Pacific.GetUtcOffset(midnight));
    }

    /// <summary>The Pacific day <paramref name="now"/> falls on, as "yyyy-MM-dd": the day daily quotas count.</summary>
    public static string PacificDay(DateTimeOffset now) =>
        TimeZoneInfo.ConvertTime(now, Pacific).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static TimeZoneInfo FindPacific()
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById("America/Los_Angeles");
        }
        catch (TimeZoneNotFoundException)
        {
            // Images without tzdata: standard time is the conservative choice (never reset early by an hour).
            return TimeZoneInfo.CreateCustomTimeZone("Pacific-Fallback", TimeSpan.FromHours(-8), "Pacific", "Pacific");
        }
    }
}
