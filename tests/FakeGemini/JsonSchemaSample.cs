using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>
/// A value that fits a JSON schema (the subset structured output and function parameters use: object, array, string,
/// number, integer, boolean, enum), as a model asked for that schema answers: every property, a string of its name.
/// </summary>
internal static class JsonSchemaSample
{
    private const int MaxDepth = 8;

    public static void Write(Utf8JsonWriter json, JsonElement schema, string name = "value", int depth = 0)
    {
        if (schema.ValueKind != JsonValueKind.Object || depth > MaxDepth)
        {
            json.WriteNullValue();
            return;
        }
        if (schema.TryGetProperty("enum", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            choices[0].WriteTo(json);
            return;
        }
        var type = schema.TryGetProperty("type", out var t) ? (t.ValueKind == JsonValueKind.Array ? t[0] : t).GetString() : "object";
        switch (type)
        {
            case "object":
                json.WriteStartObject();
                if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in properties.EnumerateObject())
                    {
                        json.WritePropertyName(property.Name);
                        Write(json, property.Value, property.Name, depth + 1);
                    }
                }
                json.WriteEndObject();
                break;
            case "array":
                json.WriteStartArray();
                if (schema.TryGetProperty("items", out var items))
                {
                    Write(json, items, name, depth + 1);
                }
                json.WriteEndArray();
                break;
            case "number":
                json.WriteNumberValue(12.5);
                break;
            case "integer":
                json.WriteNumberValue(12);
                break;
            case "boolean":
                json.WriteBooleanValue(true);
                break;
            case "null":
                json.WriteNullValue();
                break;
            default:
                json.WriteStringValue($"fake {name}");
                break;
        }
    }

    public static string Text(JsonElement schema) => System.Text.Encoding.UTF8.GetString(JsonBytes.Write(json => Write(json, schema)));
}
