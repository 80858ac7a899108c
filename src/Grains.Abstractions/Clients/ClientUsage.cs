namespace GeminiParty;

/// <summary>A client's usage as /usage and the status page show it.</summary>
/// <param name="Days">Per Pacific day ("yyyy-MM-dd"), per model, the last 31 days.</param>
/// <param name="Minutes">Per minute (minutes since the Unix epoch, UTC), the last hour.</param>
/// <param name="Today">The Pacific day the daily windows count.</param>
/// <param name="RequestsLastMinute">Requests admitted in the last 60 s (kept only while the client has an rpm limit).</param>
/// <param name="InFlight">Requests holding a concurrency slot.</param>
[GenerateSerializer, Immutable, Alias("gp.ClientUsage")]
public sealed record ClientUsage(
    [property: Id(0)] Dictionary<string, Dictionary<string, UsageCounts>> Days,
    [property: Id(1)] Dictionary<long, UsageCounts> Minutes,
    [property: Id(2)] string Today,
    [property: Id(3)] int RequestsLastMinute,
    [property: Id(4)] int InFlight,
    [property: Id(5)] DateTimeOffset At);
