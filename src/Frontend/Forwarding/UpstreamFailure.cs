namespace GeminiParty.Frontend.Forwarding;

/// <summary>A failed attempt: what to tell the client if no other key does better.</summary>
/// <param name="Headers">Upstream headers that go with the failure to the client (an upload chunk's status).</param>
internal sealed record UpstreamFailure(int Status, string? ContentType, byte[]? Body, UpstreamClassification Classification,
    KeyValuePair<string, string>[]? Headers = null);
