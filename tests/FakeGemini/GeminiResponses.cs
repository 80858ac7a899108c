using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>Bodies of the native Gemini API.</summary>
internal static class GeminiResponses
{
    /// <summary>A GenerateContentResponse; stream events use it too, with finishReason and usage only on the last.</summary>
    public static byte[] GenerateContent(string model, string responseId, string text, string? finishReason, TokenUsage? usage) =>
        JsonBytes.Write(json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("candidates");
            json.WriteStartObject();
            json.WriteStartObject("content");
            json.WriteStartArray("parts");
            json.WriteStartObject();
            json.WriteString("text", text);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteString("role", "model");
            json.WriteEndObject();
            if (finishReason is not null)
            {
                json.WriteString("finishReason", finishReason);
            }

            json.WriteNumber("index", 0);
            json.WriteEndObject();
            json.WriteEndArray();
            if (usage is { } u)
            {
                json.WriteStartObject("usageMetadata");
                json.WriteNumber("promptTokenCount", u.Prompt);
                json.WriteNumber("candidatesTokenCount", u.Completion);
                json.WriteNumber("totalTokenCount", u.Total);
                json.WriteStartArray("promptTokensDetails");
                json.WriteStartObject();
                json.WriteString("modality", "TEXT");
                json.WriteNumber("tokenCount", u.Prompt);
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteString("modelVersion", model);
            json.WriteString("responseId", responseId);
            json.WriteEndObject();
        });

    public static byte[] Embedding(float[] values) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WritePropertyName("embedding");
        WriteValues(json, values);
        json.WriteEndObject();
    }, values.Length * 12);

    public static byte[] BatchEmbeddings(IReadOnlyList<float[]> embeddings) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteStartArray("embeddings");
        foreach (var values in embeddings)
        {
            WriteValues(json, values);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }, embeddings.Sum(e => e.Length) * 12);

    public static byte[] CountTokens(int tokens) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteNumber("totalTokens", tokens);
        json.WriteStartArray("promptTokensDetails");
        json.WriteStartObject();
        json.WriteString("modality", "TEXT");
        json.WriteNumber("tokenCount", tokens);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    });

    public static byte[] Model(FakeModel model) => JsonBytes.Write(json => WriteModel(json, model));

    public static byte[] ModelList(IEnumerable<FakeModel> models, string? nextPageToken) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteStartArray("models");
        foreach (var model in models)
        {
            WriteModel(json, model);
        }

        json.WriteEndArray();
        if (nextPageToken is not null)
        {
            json.WriteString("nextPageToken", nextPageToken);
        }

        json.WriteEndObject();
    }, 4096);

    private static void WriteValues(Utf8JsonWriter json, float[] values)
    {
        json.WriteStartObject();
        json.WriteStartArray("values");
        foreach (var value in values)
        {
            json.WriteNumberValue(value);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteModel(Utf8JsonWriter json, FakeModel model)
    {
        json.WriteStartObject();
        json.WriteString("name", "models/" + model.Id);
        json.WriteString("version", model.Version);
        json.WriteString("displayName", model.DisplayName);
        json.WriteString("description", $"{model.DisplayName}, served by FakeGemini");
        json.WriteNumber("inputTokenLimit", model.InputTokenLimit);
        json.WriteNumber("outputTokenLimit", model.OutputTokenLimit);
        json.WriteStartArray("supportedGenerationMethods");
        if (model.IsEmbedding)
        {
            json.WriteStringValue("embedContent");
            json.WriteStringValue("batchEmbedContents");
        }
        else
        {
            json.WriteStringValue("generateContent");
            json.WriteStringValue("countTokens");
        }

        json.WriteEndArray();
        if (!model.IsEmbedding)
        {
            json.WriteNumber("temperature", 1);
            json.WriteNumber("topP", 0.95);
            json.WriteNumber("topK", 64);
            json.WriteNumber("maxTemperature", 2);
        }

        json.WriteEndObject();
    }
}
