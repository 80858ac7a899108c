using System.Net.WebSockets;

namespace GeminiParty.FakeGemini;

/// <summary>
/// One Live API connection as the fake saw it, updated while it runs: which key, path and query it came with, the
/// setup's model, the frame types of the client's messages, and how it ended.
/// </summary>
public sealed class RecordedLiveSession
{
    public required string Path { get; init; }

    public required string Query { get; init; }

    public required string? ApiKey { get; init; }

    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    /// <summary>101 when upgraded, else the handshake's refusal status.</summary>
    public required int HandshakeStatus { get; init; }

    /// <summary>The fault the session met, if any.</summary>
    public LiveFaultKind? Fault { get; init; }

    public string? Model { get; set; }

    /// <summary>"text" or "binary" for each client message, in order.</summary>
    public List<string> ClientMessageTypes { get; } = [];

    /// <summary>The close code the client sent, when it closed first.</summary>
    public int? ClientCloseStatus { get; set; }

    public string? ClientCloseDescription { get; set; }

    /// <summary>Whether the connection has ended.</summary>
    public bool Ended { get; set; }

    internal static string TypeName(WebSocketMessageType type) => type == WebSocketMessageType.Text ? "text" : "binary";
}
