using System.Net.WebSockets;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// One try at opening an upstream Live session with one key: either <see cref="Upstream"/> is open and its first
/// message fragment is in <see cref="First"/> (not sent to the client yet), or <see cref="Refusal"/> says why not.
/// </summary>
public sealed class LiveAttempt : IDisposable
{
    private LiveAttempt(ClientWebSocket? upstream, ValueWebSocketReceiveResult first, UpstreamClassification? refusal,
        WebSocketCloseStatus? closeStatus, string? closeDescription, int handshakeStatus)
    {
        Upstream = upstream;
        First = first;
        Refusal = refusal;
        CloseStatus = closeStatus;
        CloseDescription = closeDescription;
        HandshakeStatus = handshakeStatus;
    }

    public ClientWebSocket? Upstream { get; }

    /// <summary>The first fragment upstream sent after the setup (normally <c>setupComplete</c>), at the start of the buffer given to the connect.</summary>
    public ValueWebSocketReceiveResult First { get; }

    /// <summary>Set when the key did not open a session.</summary>
    public UpstreamClassification? Refusal { get; }

    /// <summary>Upstream's close code, when it accepted the upgrade and closed.</summary>
    public WebSocketCloseStatus? CloseStatus { get; }

    /// <summary>Upstream's close reason (secrets masked), when it accepted the upgrade and closed.</summary>
    public string? CloseDescription { get; }

    /// <summary>The handshake's HTTP status when it was not 101; 0 otherwise.</summary>
    public int HandshakeStatus { get; }

    public static LiveAttempt Opened(ClientWebSocket upstream, ValueWebSocketReceiveResult first) =>
        new(upstream, first, null, null, null, 0);

    public static LiveAttempt Closed(WebSocketCloseStatus? status, string? description, UpstreamClassification classification) =>
        new(null, default, classification, status, description, 0);

    public static LiveAttempt HandshakeRefused(int status, UpstreamClassification classification) =>
        new(null, default, classification, null, null, status);

    public static LiveAttempt Failed(string reason) =>
        new(null, default, new UpstreamClassification(UpstreamOutcome.Transient, null, reason), null, null, 0);

    public void Dispose() => Upstream?.Dispose();
}
