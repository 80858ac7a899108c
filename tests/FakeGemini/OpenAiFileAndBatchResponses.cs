using System.Text;
using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>
/// Bodies of the OpenAI-compatible files and batches: OpenAI's file, batch and list objects, whose ids are the
/// Google resource names (<c>files/abc</c>, <c>batches/abc</c>).
/// </summary>
internal static class OpenAiFileAndBatchResponses
{
    public static byte[] File(FakeResource file) => JsonBytes.Write(json => WriteFile(json, file));

    public static byte[] FileDeleted(string name) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("id", name);
        json.WriteString("object", "file");
        json.WriteBoolean("deleted", true);
        json.WriteEndObject();
    });

    public static byte[] Batch(FakeResource batch, OpenAiBatchProgress progress) => JsonBytes.Write(json => WriteBatch(json, batch, progress));

    public static byte[] FileList(IReadOnlyList<FakeResource> page, bool hasMore) => List(page, hasMore, WriteFile);

    public static byte[] BatchList(IReadOnlyList<FakeResource> page, bool hasMore) =>
        List(page, hasMore, (json, batch) => WriteBatch(json, batch, batch.OpenAiBatch!.Progress));

    /// <summary>
    /// A completed batch's output file: one line per request, in input order,
    /// <c>{"id","custom_id","response":{"status_code":200,"request_id","body":&lt;chat.completion&gt;},"error":null}</c>.
    /// </summary>
    public static byte[] BatchOutput(IReadOnlyList<OpenAiBatchLine> lines, Func<OpenAiBatchLine, byte[]> completion)
    {
        using var output = new MemoryStream();
        foreach (var line in lines)
        {
            output.Write(JsonBytes.Write(json =>
            {
                json.WriteStartObject();
                json.WriteString("id", "batch_req_" + Guid.NewGuid().ToString("N"));
                json.WriteString("custom_id", line.CustomId);
                json.WriteStartObject("response");
                json.WriteNumber("status_code", 200);
                json.WriteString("request_id", Guid.NewGuid().ToString("N"));
                json.WritePropertyName("body");
                json.WriteRawValue(completion(line), skipInputValidation: true);
                json.WriteEndObject();
                json.WriteNull("error");
                json.WriteEndObject();
            }));
            output.WriteByte((byte)'\n');
        }

        return output.ToArray();
    }

    private static byte[] List(IReadOnlyList<FakeResource> page, bool hasMore, Action<Utf8JsonWriter, FakeResource> write) => JsonBytes.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        foreach (var resource in page)
        {
            write(json, resource);
        }

        json.WriteEndArray();
        json.WriteBoolean("has_more", hasMore);
        WriteStringOrNull(json, "first_id", page.Count > 0 ? page[0].Name : null);
        WriteStringOrNull(json, "last_id", page.Count > 0 ? page[^1].Name : null);
        json.WriteEndObject();
    });

    /// <summary>A file made natively has no purpose or file name of its own: <c>user_data</c> and its id stand in.</summary>
    private static void WriteFile(Utf8JsonWriter json, FakeResource file)
    {
        json.WriteStartObject();
        json.WriteString("id", file.Name);
        json.WriteString("object", "file");
        json.WriteNumber("bytes", file.Content?.Length ?? 0);
        json.WriteNumber("created_at", file.Created.ToUnixTimeSeconds());
        json.WriteString("filename", file.DisplayName ?? file.Name["files/".Length..]);
        json.WriteString("purpose", file.Purpose ?? "user_data");
        json.WriteEndObject();
    }

    private static void WriteBatch(Utf8JsonWriter json, FakeResource resource, OpenAiBatchProgress progress)
    {
        var batch = resource.OpenAiBatch!;
        var created = resource.Created.ToUnixTimeSeconds();
        json.WriteStartObject();
        json.WriteString("id", resource.Name);
        json.WriteString("object", "batch");
        json.WriteString("endpoint", batch.Endpoint);
        json.WriteNull("errors");
        json.WriteString("input_file_id", batch.InputFileId);
        json.WriteString("completion_window", batch.CompletionWindow);
        json.WriteString("status", progress.Status);
        WriteStringOrNull(json, "output_file_id", progress.OutputFileId);
        json.WriteNull("error_file_id");
        json.WriteNumber("created_at", created);
        WriteNumberOrNull(json, "in_progress_at", progress.InProgressAt);
        json.WriteNumber("expires_at", created + (long)TimeSpan.FromHours(24).TotalSeconds);
        WriteNumberOrNull(json, "completed_at", progress.CompletedAt);
        WriteNumberOrNull(json, "cancelled_at", progress.CancelledAt);
        json.WriteStartObject("request_counts");
        json.WriteNumber("total", batch.Lines.Count);
        json.WriteNumber("completed", progress.Status == OpenAiBatchProgress.Completed ? batch.Lines.Count : 0);
        json.WriteNumber("failed", 0);
        json.WriteEndObject();
        json.WritePropertyName("metadata");
        if (batch.MetadataJson is { } metadata)
        {
            json.WriteRawValue(Encoding.UTF8.GetBytes(metadata), skipInputValidation: true);
        }
        else
        {
            json.WriteNullValue();
        }

        json.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
