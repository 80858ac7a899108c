using System.Text.Json;
using System.Text.Json.Nodes;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>Thrown when the gateway has to read a body (to merge settings or find the model) and it is not valid JSON.</summary>
public sealed class InvalidRequestBodyException(string message) : Exception(message);

/// <summary>
/// Adds the configured HARM_CATEGORY_* thresholds to a generate request or an interaction for every category the request
/// does not set itself. The only time a native body is parsed and rewritten; unknown fields survive untouched.
/// </summary>
public static class SafetySettingsMerger
{
    private const string HarmCategoryPrefix = "HARM_CATEGORY_";

    /// <param name="body">The request body, decoded.</param>
    /// <param name="thresholds">HARM_CATEGORY_* names and their BLOCK_* thresholds, as configured.</param>
    /// <param name="interaction">
    /// The body is an interaction's, whose settings are <c>safety_settings: [{"type":"harassment","threshold":"block_none"}]</c>:
    /// the same categories and thresholds, spelled in lower case without the <c>HARM_CATEGORY_</c> prefix.
    /// </param>
    public static byte[] Merge(ReadOnlySpan<byte> body, IReadOnlyDictionary<string, string> thresholds, bool interaction = false)
    {
        var (field, key) = interaction ? ("safety_settings", "type") : ("safetySettings", "category");
        try
        {
            var request = JsonNode.Parse(body) as JsonObject // the whole body: trailing data after the object is an error too
                ?? throw new InvalidRequestBodyException("The request body must be a JSON object.");
            if (request[field] is not JsonArray settings)
            {
                if (request[field] is not null)
                {
                    throw new InvalidRequestBodyException($"{field} must be an array.");
                }
                request[field] = settings = [];
            }
            var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var setting in settings)
            {
                if (setting is JsonObject item && item[key] is JsonValue category && category.TryGetValue<string>(out var name))
                {
                    present.Add(name);
                }
            }
            foreach (var (configured, threshold) in thresholds)
            {
                var category = interaction ? configured[HarmCategoryPrefix.Length..].ToLowerInvariant() : configured;
                if (!present.Contains(category))
                {
                    settings.Add(new JsonObject { [key] = category, ["threshold"] = interaction ? threshold.ToLowerInvariant() : threshold });
                }
            }
            return JsonSerializer.SerializeToUtf8Bytes(request);
        }
        // an object's members are read when it is first touched: a string that is not UTF-8 throws only then
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new InvalidRequestBodyException($"The request body is not valid JSON: {ex.Message}");
        }
        catch (ArgumentException)
        {
            throw new InvalidRequestBodyException("The request body names a field twice in one object: send each field once.");
        }
    }
}
