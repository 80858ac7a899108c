using System.Text.Json;
using System.Text.Json.Nodes;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>Thrown when the gateway has to read a body (to merge settings or find the model) and it is not valid JSON.</summary>
public sealed class InvalidRequestBodyException(string message) : Exception(message);

/// <summary>
/// Adds the configured HARM_CATEGORY_* thresholds to a generate request for every category the request does not set
/// itself. The only time a native body is parsed and rewritten; unknown fields survive untouched.
/// </summary>
public static class SafetySettingsMerger
{
    public static byte[] Merge(ReadOnlySpan<byte> body, IReadOnlyDictionary<string, string> thresholds)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body); // the whole body: trailing data after the object is an error too
        }
        catch (JsonException ex)
        {
            throw new InvalidRequestBodyException($"The request body is not valid JSON: {ex.Message}");
        }
        if (root is not JsonObject request)
        {
            throw new InvalidRequestBodyException("The request body must be a JSON object.");
        }

        if (request["safetySettings"] is not JsonArray settings)
        {
            if (request["safetySettings"] is not null)
            {
                throw new InvalidRequestBodyException("safetySettings must be an array.");
            }
            request["safetySettings"] = settings = [];
        }
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var setting in settings)
        {
            if (setting is JsonObject item && item["category"] is JsonValue category && category.TryGetValue<string>(out var name))
            {
                present.Add(name);
            }
        }
        foreach (var (category, threshold) in thresholds)
        {
            if (!present.Contains(category))
            {
                settings.Add(new JsonObject { ["category"] = category, ["threshold"] = threshold });
            }
        }
        return JsonSerializer.SerializeToUtf8Bytes(request);
    }
}
