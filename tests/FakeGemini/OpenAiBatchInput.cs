using System.Text;
using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>
/// Reads an OpenAI batch's input file: JSONL, one request a line,
/// <c>{"custom_id":"...","method":"POST","url":"/v1/chat/completions","body":{"model":"...","messages":[...]}}</c>.
/// A batch is refused whole when any line is malformed, as OpenAI's validation refuses it.
/// </summary>
internal static class OpenAiBatchInput
{
    /// <summary>The requests, or null with the 400's message.</summary>
    public static IReadOnlyList<OpenAiBatchLine>? Read(byte[] content, string endpoint, out string? error)
    {
        var lines = new List<OpenAiBatchLine>();
        var customIds = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var text in Encoding.UTF8.GetString(content).Split('\n'))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            error = ReadLine(text, endpoint, out var line);
            if (error is not null)
            {
                error = $"Line {number} of the input file: {error}";
                return null;
            }

            if (!customIds.Add(line!.CustomId))
            {
                error = $"Line {number} of the input file: custom_id '{line.CustomId}' is used twice; each request needs its own.";
                return null;
            }

            lines.Add(line);
        }

        error = lines.Count == 0 ? "The input file has no requests." : null;
        return error is null ? lines : null;
    }

    private static string? ReadLine(string text, string endpoint, out OpenAiBatchLine? line)
    {
        line = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return "not valid JSON.";
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return "expected a JSON object.";
            }

            if (String(root, "custom_id") is not { } customId)
            {
                return "missing 'custom_id'.";
            }

            if (String(root, "method") != "POST")
            {
                return "'method' must be POST.";
            }

            if (String(root, "url") != endpoint)
            {
                return $"'url' must be the batch's endpoint, {endpoint}.";
            }

            if (!root.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object)
            {
                return "missing 'body'.";
            }

            if (String(body, "model") is not { } model)
            {
                return "the body has no 'model'.";
            }

            if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            {
                return "the body has no 'messages'.";
            }

            line = new OpenAiBatchLine(customId, ApiPaths.StripModelsPrefix(model), TokenEstimator.ForRequest(messages));
            return null;
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;
}
