using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// A Live session's first client message, <c>{"setup":{"model":"models/...", ...}}</c>, as received (it is forwarded
/// unchanged, in the frame type it came in), with the model read from it.
/// </summary>
/// <param name="Message">The whole message.</param>
/// <param name="Type">Text or binary, as the client sent it.</param>
/// <param name="Model">The model without <c>models/</c>, validated as the HTTP routes validate it.</param>
public sealed record LiveSetup(ReadOnlyMemory<byte> Message, WebSocketMessageType Type, string Model)
{
    /// <summary>
    /// Reads the first message, at most <paramref name="maxBytes"/> long. Returns null with <paramref name="problem"/>
    /// set when it is not a setup message with a valid model, or when the client closed or left instead.
    /// </summary>
    public static async Task<(LiveSetup? Setup, string? Problem)> ReadAsync(WebSocket client, long maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var result = await client.ReceiveAsync(buffer.GetMemory(4096), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (null, null);
            }
            buffer.Advance(result.Count);
            if (buffer.WrittenCount > maxBytes)
            {
                return (null, "The setup message is larger than MAX_REQUEST_BODY_MB allows.");
            }
            if (result.EndOfMessage)
            {
                var message = buffer.WrittenMemory;
                return TryReadModel(message.Span, out var model, out var problem)
                    ? (new LiveSetup(message, result.MessageType, model), null)
                    : (null, problem);
            }
        }
    }

    /// <summary>Finds <c>setup.model</c> with a forward-only reader; the rest of the message is not looked at.</summary>
    internal static bool TryReadModel(ReadOnlySpan<byte> json, out string model, out string problem)
    {
        model = "";
        problem = """The first message must be {"setup":{"model":"models/<name>",...}}.""";
        string? raw = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isSetup = reader.ValueTextEquals("setup"u8);
                reader.Read();
                if (!isSetup || reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isModel = reader.ValueTextEquals("model"u8);
                    reader.Read();
                    if (isModel && reader.TokenType == JsonTokenType.String)
                    {
                        raw = reader.GetString();
                        break;
                    }
                    reader.Skip();
                }
                break;
            }
        }
        catch (JsonException)
        {
            problem = "The setup message is not valid JSON.";
            return false;
        }
        if (raw is null)
        {
            return false;
        }
        if (!ModelName.TryNormalize(raw, out model))
        {
            problem = $"Invalid model name in setup: {ModelName.Rules}";
            return false;
        }
        return true;
    }
}
