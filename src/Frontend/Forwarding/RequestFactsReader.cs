using System.Text.Json;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Reads the top-level fields the gateway routes a JSON request by (<c>model</c>, <c>stream</c>; for an interaction also
/// <c>agent</c>, <c>previous_interaction_id</c> and <c>store</c>) with a forward-only reader: the body is never
/// materialised or re-serialised, it goes upstream as it came.
/// </summary>
public static class RequestFactsReader
{
    /// <param name="Model">The <c>model</c> string, if any.</param>
    /// <param name="Stream">Whether <c>stream</c> is true.</param>
    /// <param name="Agent">The <c>agent</c> string, if any (an interaction with an agent instead of a model).</param>
    /// <param name="PreviousInteractionId">The <c>previous_interaction_id</c> string, if any.</param>
    /// <param name="Store">False only when <c>store</c> is false (an interaction upstream does not keep).</param>
    public readonly record struct RequestFacts(string? Model, bool Stream, string? Agent = null, string? PreviousInteractionId = null, bool Store = true);

    /// <exception cref="InvalidRequestBodyException">The body is not a JSON object.</exception>
    public static RequestFacts Read(ReadOnlySpan<byte> body)
    {
        string? model = null, agent = null, previous = null;
        bool stream = false, store = true;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidRequestBodyException("The request body must be a JSON object.");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = reader.ValueTextEquals("model"u8) ? Field.Model
                    : reader.ValueTextEquals("stream"u8) ? Field.Stream
                    : reader.ValueTextEquals("agent"u8) ? Field.Agent
                    : reader.ValueTextEquals("previous_interaction_id"u8) ? Field.Previous
                    : reader.ValueTextEquals("store"u8) ? Field.Store
                    : Field.Other;
                reader.Read();
                switch (field)
                {
                    case Field.Model when reader.TokenType == JsonTokenType.String:
                        model = reader.GetString();
                        break;
                    case Field.Agent when reader.TokenType == JsonTokenType.String:
                        agent = reader.GetString();
                        break;
                    case Field.Previous when reader.TokenType == JsonTokenType.String:
                        previous = reader.GetString();
                        break;
                    case Field.Stream when reader.TokenType is JsonTokenType.True or JsonTokenType.False:
                        stream = reader.GetBoolean();
                        break;
                    case Field.Store when reader.TokenType is JsonTokenType.True or JsonTokenType.False:
                        store = reader.GetBoolean();
                        break;
                    default:
                        reader.Skip();
                        break;
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
        catch (Exception ex) when (ex is JsonException or InvalidOperationException) // the latter: a string read that is not UTF-8
        {
            throw new InvalidRequestBodyException($"The request body is not valid JSON: {ex.Message}");
        }
        return new RequestFacts(model, stream, agent, previous, store);
    }

    private enum Field
    {
        Other,
        Model,
        Stream,
        Agent,
        Previous,
        Store,
    }
}
