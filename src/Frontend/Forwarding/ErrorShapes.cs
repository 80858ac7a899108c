using System.Text.Json;
using System.Text.Json.Serialization;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>Google's error shape: <c>{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED"}}</c>.</summary>
public sealed record GoogleError(GoogleErrorDetail Error);

public sealed record GoogleErrorDetail(int Code, string Message, string Status);

/// <summary>OpenAI's error shape: <c>{"error":{"message":"...","type":"...","code":"..."}}</c>.</summary>
public sealed record OpenAiError(OpenAiErrorDetail Error);

public sealed record OpenAiErrorDetail(string Message, string Type, string? Code, string? Param = null);

/// <summary>
/// The Interactions API's error event in a stream: <c>{"event_type":"error","error":{"code":"INTERNAL","message":"..."}}</c>,
/// which its clients read as one of the stream's events.
/// </summary>
public sealed record InteractionErrorEvent(InteractionErrorDetail Error)
{
    [JsonPropertyName("event_type")]
    [JsonPropertyOrder(-1)]
    public string EventType => "error";
}

public sealed record InteractionErrorDetail(string Code, string Message);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GoogleError))]
[JsonSerializable(typeof(OpenAiError))]
[JsonSerializable(typeof(InteractionErrorEvent))]
internal sealed partial class ErrorJsonContext : JsonSerializerContext;
