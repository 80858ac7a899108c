using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>
/// What the fake model does with a chat request beyond prose, as Gemini does on the OpenAI-compatible surface: with
/// <c>tools</c> (and <c>tool_choice</c> not <c>none</c>) and a last message that is not a tool's result, it calls the
/// first function with arguments that fit its parameters; after a tool's result it answers with that result quoted; with
/// a <c>json_schema</c> (or <c>json_object</c>) response format its content is JSON that fits it. Null: plain prose.
/// </summary>
internal sealed record OpenAiChatTurn(string? Content, string? ToolName, string? ToolArguments)
{
    public static OpenAiChatTurn? Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("messages", out var messages)
            || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return null;
        }
        var last = messages[messages.GetArrayLength() - 1];
        if (last.ValueKind == JsonValueKind.Object && last.TryGetProperty("role", out var role) && role.ValueEquals("tool"))
        {
            var result = last.TryGetProperty("content", out var content) ? (content.ValueKind == JsonValueKind.String ? content.GetString() : content.GetRawText()) : "";
            return new OpenAiChatTurn($"The tool answered: {result}", null, null);
        }
        if (FirstFunction(root) is { } function)
        {
            var name = function.TryGetProperty("name", out var n) ? n.GetString() : null;
            var parameters = function.TryGetProperty("parameters", out var p) ? p : default;
            return name is null ? null : new OpenAiChatTurn(null, name, parameters.ValueKind == JsonValueKind.Object ? JsonSchemaSample.Text(parameters) : "{}");
        }
        if (root.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object
            && format.TryGetProperty("type", out var type))
        {
            if (type.ValueEquals("json_schema") && format.TryGetProperty("json_schema", out var named) && named.ValueKind == JsonValueKind.Object
                && named.TryGetProperty("schema", out var schema))
            {
                return new OpenAiChatTurn(JsonSchemaSample.Text(schema), null, null);
            }
            if (type.ValueEquals("json_object"))
            {
                return new OpenAiChatTurn("""{"answer":"fake answer"}""", null, null);
            }
        }
        return null;
    }

    /// <summary>The function the model calls: the first of <c>tools</c>, unless <c>tool_choice</c> is <c>none</c> or names another.</summary>
    private static JsonElement? FirstFunction(JsonElement root)
    {
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        string? chosen = null;
        if (root.TryGetProperty("tool_choice", out var choice))
        {
            if (choice.ValueKind == JsonValueKind.String && choice.ValueEquals("none"))
            {
                return null;
            }
            if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var named) && named.TryGetProperty("name", out var chosenName))
            {
                chosen = chosenName.GetString();
            }
        }
        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object
                && (chosen is null || (function.TryGetProperty("name", out var name) && name.ValueEquals(chosen))))
            {
                return function;
            }
        }
        return null;
    }
}
