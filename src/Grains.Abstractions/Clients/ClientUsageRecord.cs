namespace GeminiParty;

/// <summary>What a client grain persists: its usage per Pacific day and model, and per minute for the charts.</summary>
[GenerateSerializer, Alias("gp.ClientUsageRecord")]
public sealed class ClientUsageRecord
{
    /// <summary>Per Pacific day ("yyyy-MM-dd"), per model; the last 31 days.</summary>
    [Id(0)] public Dictionary<string, Dictionary<string, UsageCounts>> Days { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Per minute (minutes since the Unix epoch, UTC), all models; the last hour.</summary>
    [Id(1)] public Dictionary<long, UsageCounts> Minutes { get; set; } = [];
}
