using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>Bodies of the OpenAI-compatible surface.</summary>
internal static class OpenAiResponses
{
    public static byte[] ChatCompletion(string id, long created, string model, string text, TokenUsage usage) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "chat.completion");
        json.WriteNumber("created", created);
        json.WriteString("model", model);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        json.WriteString("content", text);
        json.WriteEndObject();
        json.WriteString("finish_reason", "stop");
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, usage);
        json.WriteEndObject();
    });

    /// <summary>A chat.completion whose message is <paramref name="turn"/>: JSON or a quoted tool result, or a tool call.</summary>
    public static byte[] ChatCompletion(string id, long created, string model, OpenAiChatTurn turn, TokenUsage usage) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "chat.completion");
        json.WriteNumber("created", created);
        json.WriteString("model", model);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        WriteTurn(json, turn, id);
        json.WriteEndObject();
        json.WriteString("finish_reason", turn.ToolName is null ? "stop" : "tool_calls");
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, usage);
        json.WriteEndObject();
    });

    /// <summary>The one chunk of a streamed <paramref name="turn"/>, whole, with finish_reason and, when asked for, usage.</summary>
    public static byte[] ChatChunk(string id, long created, string model, OpenAiChatTurn turn, TokenUsage? usage) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "chat.completion.chunk");
        json.WriteNumber("created", created);
        json.WriteString("model", model);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("delta");
        json.WriteString("role", "assistant");
        WriteTurn(json, turn, id, index: 0);
        json.WriteEndObject();
        json.WriteString("finish_reason", turn.ToolName is null ? "stop" : "tool_calls");
        json.WriteEndObject();
        json.WriteEndArray();
        if (usage is { } u)
        {
            WriteUsage(json, u);
        }
        json.WriteEndObject();
    });

    private static void WriteTurn(Utf8JsonWriter json, OpenAiChatTurn turn, string id, int? index = null)
    {
        if (turn.ToolName is null)
        {
            json.WriteString("content", turn.Content);
            return;
        }
        json.WriteNull("content");
        json.WriteStartArray("tool_calls");
        json.WriteStartObject();
        if (index is { } i)
        {
            json.WriteNumber("index", i);
        }
        json.WriteString("id", "call_" + id[^12..]);
        json.WriteString("type", "function");
        json.WriteStartObject("function");
        json.WriteString("name", turn.ToolName);
        json.WriteString("arguments", turn.ToolArguments);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
    }

    /// <summary>A chat.completion.chunk; the last one has finish_reason and, when asked for, usage.</summary>
    public static byte[] ChatChunk(string id, long created, string model, string content, bool first, bool last, TokenUsage? usage) =>
        JsonBytes.Write(json =>
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("object", "chat.completion.chunk");
            json.WriteNumber("created", created);
            json.WriteString("model", model);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            json.WriteStartObject("delta");
            if (first)
            {
                json.WriteString("role", "assistant");
            }

            json.WriteString("content", content);
            json.WriteEndObject();
            if (last)
            {
                json.WriteString("finish_reason", "stop");
            }
            else
            {
                json.WriteNull("finish_reason");
            }

            json.WriteEndObject();
            json.WriteEndArray();
            if (usage is { } u)
            {
                WriteUsage(json, u);
            }

            json.WriteEndObject();
        });

    public static byte[] Embeddings(string model, IReadOnlyList<float[]> vectors, bool base64, int promptTokens) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        for (var i = 0; i < vectors.Count; i++)
        {
            json.WriteStartObject();
            json.WriteString("object", "embedding");
            json.WriteNumber("index", i);
            if (base64)
            {
                json.WriteBase64String("embedding", LittleEndianBytes(vectors[i]));
            }
            else
            {
                json.WriteStartArray("embedding");
                foreach (var value in vectors[i])
                {
                    json.WriteNumberValue(value);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("model", model);
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", promptTokens);
        json.WriteNumber("total_tokens", promptTokens);
        json.WriteEndObject();
        json.WriteEndObject();
    }, vectors.Sum(v => v.Length) * 12);

    public static byte[] Model(string id) => JsonBytes.Write(json => WriteModel(json, id));

    public static byte[] ModelList(IEnumerable<FakeModel> models) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        foreach (var model in models)
        {
            WriteModel(json, model.Id);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    private static void WriteModel(Utf8JsonWriter json, string id)
    {
        json.WriteStartObject();
        json.WriteString("id", "models/" + id);
        json.WriteString("object", "model");
        json.WriteString("owned_by", "google");
        json.WriteEndObject();
    }

    private static void WriteUsage(Utf8JsonWriter json, TokenUsage usage)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", usage.Prompt);
        json.WriteNumber("completion_tokens", usage.Completion);
        json.WriteNumber("total_tokens", usage.Total);
        json.WriteEndObject();
    }

    private static byte[] LittleEndianBytes(float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        return bytes;
    }
}
