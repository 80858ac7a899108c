using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>
/// Bodies of the routes beyond chat and embeddings, in the shapes Google answers them: Imagen's <c>:predict</c>, Veo's
/// <c>:predictLongRunning</c>, the batch methods (a batch operation), and OpenAI's images and audio.
/// </summary>
internal static class MediaAndBatchResponses
{
    /// <summary>A 1x1 transparent PNG: a real image a client can decode.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    /// <summary>A short silent WAV, for <c>audio/speech</c>.</summary>
    public static readonly byte[] Wav = SilentWav();

    /// <summary>Imagen on the Gemini API: <c>{"predictions":[{"bytesBase64Encoded":...,"mimeType":"image/png"}]}</c>.</summary>
    public static byte[] Predictions(int count) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteStartArray("predictions");
        for (var i = 0; i < count; i++)
        {
            json.WriteStartObject();
            json.WriteBase64String("bytesBase64Encoded", Png);
            json.WriteString("mimeType", "image/png");
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    /// <summary>A long-running operation just started, as Veo's <c>:predictLongRunning</c> returns it.</summary>
    public static byte[] Operation(string model) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("name", $"models/{model}/operations/{NewId()}");
        json.WriteEndObject();
    });

    /// <summary>A batch just created (<c>:batchGenerateContent</c>, <c>:asyncBatchEmbedContent</c>): a batch operation.</summary>
    public static byte[] Batch(string model, string type, string? displayName, int requestCount) => JsonBytes.Write(json =>
    {
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        json.WriteStartObject();
        json.WriteString("name", "batches/" + NewId());
        json.WriteStartObject("metadata");
        json.WriteString("@type", $"type.googleapis.com/google.ai.generativelanguage.v1main.{type}");
        json.WriteString("model", "models/" + model);
        if (displayName is not null)
        {
            json.WriteString("displayName", displayName);
        }

        json.WriteString("createTime", now);
        json.WriteString("updateTime", now);
        json.WriteStartObject("batchStats");
        json.WriteString("requestCount", requestCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        json.WriteString("pendingRequestCount", requestCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        json.WriteEndObject();
        json.WriteString("state", "BATCH_STATE_PENDING");
        json.WriteEndObject();
        json.WriteEndObject();
    });

    /// <summary>OpenAI's <c>images/generations</c> answer with base64 images.</summary>
    public static byte[] Images(int count) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteNumber("created", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        json.WriteStartArray("data");
        for (var i = 0; i < count; i++)
        {
            json.WriteStartObject();
            json.WriteBase64String("b64_json", Png);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    /// <summary>OpenAI's <c>audio/transcriptions</c> answer (response_format json).</summary>
    public static byte[] Transcription(string text) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("text", text);
        json.WriteEndObject();
    });

    /// <summary>The number of inline requests of a <c>:batchGenerateContent</c> or <c>:asyncBatchEmbedContent</c> body.</summary>
    /// <summary>A batch's input file (<c>batch.inputConfig.fileName</c>), or null for inline requests.</summary>
    public static string? InputFile(JsonElement root)
    {
        var batch = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("batch", out var b) ? b : root;
        foreach (var config in new[] { "inputConfig", "input_config" })
        {
            if (batch.ValueKind == JsonValueKind.Object && batch.TryGetProperty(config, out var input) && input.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in new[] { "fileName", "file_name" })
                {
                    if (input.TryGetProperty(field, out var file) && file.ValueKind == JsonValueKind.String)
                    {
                        return file.GetString();
                    }
                }
            }
        }
        return null;
    }

    public static int InlineRequestCount(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object
        && root.TryGetProperty("batch", out var batch) && batch.ValueKind == JsonValueKind.Object
        && batch.TryGetProperty("inputConfig", out var input) && input.ValueKind == JsonValueKind.Object
        && input.TryGetProperty("requests", out var wrapper) && wrapper.ValueKind == JsonValueKind.Object
        && wrapper.TryGetProperty("requests", out var requests) && requests.ValueKind == JsonValueKind.Array
            ? requests.GetArrayLength()
            : 0;

    public static string? DisplayName(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object
        && root.TryGetProperty("batch", out var batch) && batch.ValueKind == JsonValueKind.Object
        && batch.TryGetProperty("displayName", out var name) && name.ValueKind == JsonValueKind.String
            ? name.GetString()
            : null;

    private static string NewId() => Guid.NewGuid().ToString("N")[..12];

    private static byte[] SilentWav()
    {
        const int samples = 800; // 0.1 s at 8 kHz, 8-bit mono
        using var wav = new MemoryStream();
        using var writer = new BinaryWriter(wav);
        writer.Write("RIFF"u8);
        writer.Write(36 + samples);
        writer.Write("WAVEfmt "u8);
        writer.Write(16);
        writer.Write((short)1);
        writer.Write((short)1);
        writer.Write(8000);
        writer.Write(8000);
        writer.Write((short)1);
        writer.Write((short)8);
        writer.Write("data"u8);
        writer.Write(samples);
        writer.Write(Enumerable.Repeat((byte)128, samples).ToArray());
        writer.Flush();
        return wav.ToArray();
    }
}
