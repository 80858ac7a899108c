namespace GeminiParty;

/// <summary>A client's limits as its clients file line sets them; null means no limit of that kind.</summary>
/// <param name="RequestsPerMinute">rpm: requests admitted in any 60 seconds.</param>
/// <param name="RequestsPerDay">rpd: requests admitted in one Pacific day (as Google's daily quotas).</param>
/// <param name="TokensPerDay">tpd: requests are admitted while the day's total tokens are below it.</param>
/// <param name="Concurrency">Requests in flight at once.</param>
[GenerateSerializer, Immutable, Alias("gp.ClientLimits")]
public sealed record ClientLimits(
    [property: Id(0)] int? RequestsPerMinute,
    [property: Id(1)] int? RequestsPerDay,
    [property: Id(2)] long? TokensPerDay,
    [property: Id(3)] int? Concurrency)
{
    public static readonly ClientLimits None = new(null, null, null, null);

    /// <summary>Whether a request needs the client grain's admission (any window to keep).</summary>
    public bool Any => RequestsPerMinute is not null || RequestsPerDay is not null || TokensPerDay is not null || Concurrency is not null;
}
