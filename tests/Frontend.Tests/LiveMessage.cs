using System.Net.WebSockets;

namespace GeminiParty.Frontend.Tests;

/// <summary>One message from the gateway, or its close.</summary>
internal sealed record LiveMessage(WebSocketMessageType Type, string Text, WebSocketCloseStatus? CloseStatus, string? CloseDescription)
{
    public bool IsClose => Type == WebSocketMessageType.Close;

    public override string ToString() => IsClose ? $"close {(int?)CloseStatus} {CloseDescription}" : $"{Type} {Text}";
}
