using System.Text.Json;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Reads the two fields the gateway needs from an OpenAI request (<c>model</c>, <c>stream</c>) with a forward-only
/// reader: the body is never materialised or re-serialised, it goes upstream as it came.
/// </summary>
public static class OpenAiRequestReader
{
    public readonly record struct OpenAiRequestFacts(string? Model, bool Stream);

    /// <exception cref="InvalidRequestBodyException">The body is not a JSON object.</exception>
    public static OpenAiRequestFacts Read(ReadOnlySpan<byte> body)
    {
        string? model = null;
        var stream = false;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidRequestBodyException("The request body must be a JSON object.");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isModel = reader.ValueTextEquals("model"u8);
                var isStream = !isModel && reader.ValueTextEquals("stream"u8);
                reader.Read();
                if (isModel && reader.TokenType == JsonTokenType.String)
                {
                    model = reader.GetString();
                }
                else if (isStream && reader.TokenType is JsonTokenType.True or JsonTokenType.False)
                {
                    stream = reader.GetBoolean();
                }
                else
                {
                    reader.Skip();
                }
            }
            // the reader only validates what it reads: walk to the end so a truncated body is caught here, not upstream
            while (reader.Read())
            {
            }
            if (reader.BytesConsumed != body.Length && !body[(int)reader.BytesConsumed..].Trim(" \t\r\n"u8).IsEmpty)
            {
                throw new InvalidRequestBodyException("The request body has data after its JSON object.");
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidRequestBodyException($"The request body is not valid JSON: {ex.Message}");
        }
        return new OpenAiRequestFacts(model, stream);
    }
}
