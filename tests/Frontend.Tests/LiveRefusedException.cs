using System.Net.WebSockets;

namespace GeminiParty.Frontend.Tests;

/// <summary>The gateway refused the WebSocket handshake.</summary>
internal sealed class LiveRefusedException(int status, ClientWebSocket socket) : Exception($"handshake answered {status}")
{
    public int Status { get; } = status;

    public IReadOnlyDictionary<string, IEnumerable<string>>? Headers { get; } = socket.HttpResponseHeaders;
}
