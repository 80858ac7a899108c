namespace GeminiParty.FakeGemini;

/// <summary>
/// One request as the fake saw it. <paramref name="Surface"/> is "native" or "openai".
/// <paramref name="Status"/> is the status sent, 0 when the fake aborted the connection itself
/// and 499 when the client went away first. <paramref name="Arrival"/> is its place in the order requests arrived
/// (the list itself is in the order they were answered).
/// </summary>
public sealed record RecordedRequest(
    string Method,
    string Path,
    string QueryString,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body,
    string? ApiKey,
    string Surface,
    string? Model,
    int Status,
    int Arrival = 0);
