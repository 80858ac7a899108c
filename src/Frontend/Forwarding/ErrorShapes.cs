using System.Text.Json;
using System.Text.Json.Serialization;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>Google's error shape: <c>{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED"}}</c>.</summary>
public sealed record GoogleError(GoogleErrorDetail Error);

public sealed record GoogleErrorDetail(int Code, string Message, string Status);

/// <summary>OpenAI's error shape: <c>{"error":{"message":"...","type":"...","code":"..."}}</c>.</summary>
public sealed record OpenAiError(OpenAiErrorDetail Error);

public sealed record OpenAiErrorDetail(string Message, string Type, string? Code, string? Param = null);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GoogleError))]
[JsonSerializable(typeof(OpenAiError))]
internal sealed partial class ErrorJsonContext : JsonSerializerContext;
