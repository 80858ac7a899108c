namespace GeminiParty.FakeGemini;

/// <summary>
/// POST /_fake/faults. <c>Fault</c> is a <see cref="FakeFaultKind"/> name (wire form of <see cref="FakeFault.TryParse"/> accepted);
/// <c>Times</c> defaults to forever; <c>RetryDelaySeconds</c> -1 omits RetryInfo.
/// </summary>
internal sealed record FaultRequest(string? Key, string? Fault, int? Times, int? RetryDelaySeconds, int? Status);

/// <summary>POST /_fake/options: each field that is present replaces the running value.</summary>
internal sealed record OptionsPatch(
    int? LatencyMs,
    int? StreamEvents,
    int? StreamEventDelayMs,
    bool? HoldStreamsAfterFirstEvent,
    int? StreamIdleBeforeFirstEventMs,
    int? StreamIdleAfterFirstEventMs);

internal sealed record RecordedRequestView(
    string Method,
    string Path,
    string Query,
    string? ApiKey,
    string Surface,
    string? Model,
    int Status,
    string BodyBase64,
    IReadOnlyDictionary<string, string> Headers);

internal sealed record StatsView(IReadOnlyDictionary<string, int> PerKey, int Total, int Cancelled, int HeldStreams, long Connections);

/// <summary>A key to revoke or restore (control API).</summary>
internal sealed record KeyRequest(string Key);
