using System.Net;
using System.Text;
using System.Text.Json;

namespace GeminiParty.FakeGemini.Tests;

/// <summary>
/// Google's OpenAI-compatible files and batches: ids are resource names (<c>files/x</c>, <c>batches/x</c>), reached
/// percent-encoded, raw or bare, and each resource is the key's own, as the native files and batches are.
/// </summary>
public sealed class OpenAiBatchApiTests
{
    private const string Owner = "AIzaOpenAiBatchOwnerKey";
    private const string Other = "AIzaOpenAiBatchOtherKey";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Line(string customId, string model = "gemini-2.5-flash") =>
        $$$"""{"custom_id":"{{{customId}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"{{{model}}}","messages":[{"role":"user","content":"hello"}]}}""";

    private static string BatchBody(string inputFileId) =>
        $$$"""{"input_file_id":"{{{inputFileId}}}","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{"job":"nightly"}}""";

    /// <summary>A multipart upload as OpenAI's SDKs send it; returns the file object.</summary>
    private static async Task<JsonElement> UploadAsync(HttpClient http, string key, byte[] content, string fileName = "in.jsonl")
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(content), "file", fileName);
        form.Add(new StringContent("batch"), "purpose");
        using var request = GeminiCalls.OpenAi(HttpMethod.Post, "/files", key);
        request.Content = form;
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync(Ct);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string path, string key, string? body = null)
    {
        using var response = await http.SendAsync(GeminiCalls.OpenAi(method, path, key, body), Ct);
        return (response.StatusCode, await response.ReadJsonAsync(Ct));
    }

    private static async Task<string> BatchOfTwoAsync(HttpClient http, string key)
    {
        var file = await UploadAsync(http, key, Encoding.UTF8.GetBytes(Line("first") + "\n" + Line("second") + "\n"));
        var (status, batch) = await SendAsync(http, HttpMethod.Post, "/batches", key, BatchBody(file.GetProperty("id").GetString()!));
        Assert.Equal(HttpStatusCode.OK, status);
        return batch.GetProperty("id").GetString()!;
    }

    private static string Encoded(string name) => Uri.EscapeDataString(name);

    private static void AssertDeniedWithoutKeyReason(HttpStatusCode status, JsonElement body)
    {
        Assert.Equal(HttpStatusCode.Forbidden, status);
        var error = body.GetProperty("error");
        Assert.Equal("PERMISSION_DENIED", error.GetProperty("status").GetString());
        Assert.False(error.TryGetProperty("details", out _));
    }

    [Fact]
    public async Task An_uploaded_file_is_the_keys_native_file_and_answers_to_its_encoded_raw_and_bare_id()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var bytes = Enumerable.Range(0, 512).Select(i => (byte)i).ToArray();

        var file = await UploadAsync(http, Owner, bytes, "blob.bin");
        var id = file.GetProperty("id").GetString()!;
        var bare = id["files/".Length..];

        Assert.StartsWith("files/", id);
        Assert.Equal(("file", 512, "blob.bin", "batch"), (file.GetProperty("object").GetString(), file.GetProperty("bytes").GetInt32(),
            file.GetProperty("filename").GetString(), file.GetProperty("purpose").GetString()));
        Assert.Contains("%2F", Encoded(id));
        foreach (var form in new[] { Encoded(id), id, bare })
        {
            var (status, got) = await SendAsync(http, HttpMethod.Get, "/files/" + form, Owner);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(id, got.GetProperty("id").GetString());
            using var content = await http.SendAsync(GeminiCalls.OpenAi(HttpMethod.Get, $"/files/{form}/content", Owner), Ct);
            Assert.Equal("application/octet-stream", content.Content.Headers.ContentType!.MediaType);
            Assert.Equal(bytes, await content.Content.ReadAsByteArrayAsync(Ct));
        }

        using var native = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/" + id, Owner), Ct);
        Assert.Equal(id, (await native.ReadJsonAsync(Ct)).GetProperty("name").GetString());
        var (foreignStatus, foreign) = await SendAsync(http, HttpMethod.Get, "/files/" + Encoded(id), Other);
        AssertDeniedWithoutKeyReason(foreignStatus, foreign);
        var (foreignDelete, deniedDelete) = await SendAsync(http, HttpMethod.Delete, "/files/" + id, Other);
        AssertDeniedWithoutKeyReason(foreignDelete, deniedDelete);

        var (_, deleted) = await SendAsync(http, HttpMethod.Delete, "/files/" + Encoded(id), Owner);
        Assert.Equal((id, "file", true), (deleted.GetProperty("id").GetString(), deleted.GetProperty("object").GetString(), deleted.GetProperty("deleted").GetBoolean()));
        var (gone, error) = await SendAsync(http, HttpMethod.Get, "/files/" + bare, Owner);
        Assert.Equal(HttpStatusCode.NotFound, gone);
        Assert.Equal("NOT_FOUND", error.GetProperty("error").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_batch_is_in_progress_on_its_first_get_and_completed_on_the_second_with_a_chat_completion_per_line()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var input = await UploadAsync(http, Owner, Encoding.UTF8.GetBytes(Line("first", "models/gemini-2.5-pro") + "\n" + Line("second") + "\n"));
        var inputId = input.GetProperty("id").GetString()!;

        var (status, created) = await SendAsync(http, HttpMethod.Post, "/batches", Owner, BatchBody(inputId));
        var id = created.GetProperty("id").GetString()!;
        var (_, first) = await SendAsync(http, HttpMethod.Get, "/batches/" + Encoded(id), Owner);
        var (_, second) = await SendAsync(http, HttpMethod.Get, "/batches/" + id, Owner);
        var (_, third) = await SendAsync(http, HttpMethod.Get, "/batches/" + id["batches/".Length..], Owner);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("batches/", id);
        Assert.Equal(("batch", "validating", inputId, "/v1/chat/completions", "24h"), (created.GetProperty("object").GetString(),
            created.GetProperty("status").GetString(), created.GetProperty("input_file_id").GetString(), created.GetProperty("endpoint").GetString(),
            created.GetProperty("completion_window").GetString()));
        Assert.Equal(JsonValueKind.Null, created.GetProperty("output_file_id").ValueKind);
        Assert.Equal("nightly", created.GetProperty("metadata").GetProperty("job").GetString());
        Assert.Equal(2, created.GetProperty("request_counts").GetProperty("total").GetInt32());
        Assert.Equal("gemini-2.5-pro", fake.Requests.Single(r => r.Method == "POST" && r.Path.EndsWith("/batches", StringComparison.Ordinal)).Model);
        Assert.Equal("in_progress", first.GetProperty("status").GetString());
        Assert.Equal("completed", second.GetProperty("status").GetString());
        Assert.Equal(2, second.GetProperty("request_counts").GetProperty("completed").GetInt32());
        var outputId = second.GetProperty("output_file_id").GetString()!;
        Assert.StartsWith("files/", outputId);
        Assert.Equal(outputId, third.GetProperty("output_file_id").GetString());

        using var output = await http.SendAsync(GeminiCalls.OpenAi(HttpMethod.Get, $"/files/{Encoded(outputId)}/content", Owner), Ct);
        var lines = (await output.Content.ReadAsStringAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(["first", "second"], lines.Select(line => line.GetProperty("custom_id").GetString()));
        Assert.All(lines, line =>
        {
            Assert.Equal(200, line.GetProperty("response").GetProperty("status_code").GetInt32());
            Assert.Equal(JsonValueKind.Null, line.GetProperty("error").ValueKind);
            var body = line.GetProperty("response").GetProperty("body");
            Assert.Equal("chat.completion", body.GetProperty("object").GetString());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()));
        });
        Assert.Equal("gemini-2.5-pro", lines[0].GetProperty("response").GetProperty("body").GetProperty("model").GetString());

        var (outputStatus, outputDenied) = await SendAsync(http, HttpMethod.Get, "/files/" + Encoded(outputId), Other);
        AssertDeniedWithoutKeyReason(outputStatus, outputDenied);
    }

    [Fact]
    public async Task Another_keys_batch_or_input_file_is_refused_and_an_unknown_one_is_not_found()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var input = (await UploadAsync(http, Owner, Encoding.UTF8.GetBytes(Line("only")))).GetProperty("id").GetString()!;
        var batch = await BatchOfTwoAsync(http, Owner);
        var otherBefore = fake.CountFor(Other);

        var (createStatus, createDenied) = await SendAsync(http, HttpMethod.Post, "/batches", Other, BatchBody(input));
        var (getStatus, getDenied) = await SendAsync(http, HttpMethod.Get, "/batches/" + Encoded(batch), Other);
        var (cancelStatus, cancelDenied) = await SendAsync(http, HttpMethod.Post, $"/batches/{batch}/cancel", Other);
        var (unknownBatch, unknownBatchError) = await SendAsync(http, HttpMethod.Get, "/batches/" + Encoded("batches/000000000000"), Owner);
        var (unknownFile, _) = await SendAsync(http, HttpMethod.Post, "/batches", Owner, BatchBody("files/000000000000"));
        var (otherList, list) = await SendAsync(http, HttpMethod.Get, "/batches", Other);

        AssertDeniedWithoutKeyReason(createStatus, createDenied);
        AssertDeniedWithoutKeyReason(getStatus, getDenied);
        AssertDeniedWithoutKeyReason(cancelStatus, cancelDenied);
        Assert.Equal(HttpStatusCode.NotFound, unknownBatch);
        Assert.Equal("NOT_FOUND", unknownBatchError.GetProperty("error").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknownFile);
        Assert.Equal(HttpStatusCode.OK, otherList);
        Assert.Equal(0, list.GetProperty("data").GetArrayLength());
        Assert.Equal(otherBefore + 4, fake.CountFor(Other));
    }

    [Fact]
    public async Task A_batch_not_yet_completed_can_be_cancelled_for_good_and_a_completed_one_cannot()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var cancelled = await BatchOfTwoAsync(http, Owner);
        var completed = await BatchOfTwoAsync(http, Owner);
        await SendAsync(http, HttpMethod.Get, "/batches/" + completed, Owner);
        await SendAsync(http, HttpMethod.Get, "/batches/" + completed, Owner);

        var (cancelStatus, cancel) = await SendAsync(http, HttpMethod.Post, $"/batches/{Encoded(cancelled)}/cancel", Owner);
        var (_, polled) = await SendAsync(http, HttpMethod.Get, "/batches/" + cancelled, Owner);
        var (_, polledAgain) = await SendAsync(http, HttpMethod.Get, "/batches/" + cancelled, Owner);
        var (lateStatus, late) = await SendAsync(http, HttpMethod.Post, $"/batches/{Encoded(completed)}/cancel", Owner);

        Assert.Equal(HttpStatusCode.OK, cancelStatus);
        Assert.Equal((cancelled, "cancelled"), (cancel.GetProperty("id").GetString(), cancel.GetProperty("status").GetString()));
        Assert.Equal("cancelled", polled.GetProperty("status").GetString());
        Assert.Equal("cancelled", polledAgain.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, polledAgain.GetProperty("output_file_id").ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, lateStatus);
        Assert.Equal(400, late.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task A_malformed_input_line_or_an_upload_without_a_file_part_is_a_400()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var malformed = await UploadAsync(http, Owner, Encoding.UTF8.GetBytes(Line("fine") + "\n{\"custom_id\":\"broken\"\n"));
        using var noFile = GeminiCalls.OpenAi(HttpMethod.Post, "/files", Owner);
        noFile.Content = new MultipartFormDataContent { { new StringContent("batch"), "purpose" } };

        var (status, error) = await SendAsync(http, HttpMethod.Post, "/batches", Owner, BatchBody(malformed.GetProperty("id").GetString()!));
        using var noFileResponse = await http.SendAsync(noFile, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Line 2", error.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, noFileResponse.StatusCode);
        Assert.Equal("INVALID_ARGUMENT", (await noFileResponse.ReadJsonAsync(Ct)).GetProperty("error").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Lists_show_the_keys_own_newest_first_in_pages_of_limit_after_an_id()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var made = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            made.Add(await BatchOfTwoAsync(http, Owner));
        }

        await BatchOfTwoAsync(http, Other);

        var (_, page) = await SendAsync(http, HttpMethod.Get, "/batches?limit=2", Owner);
        var after = Uri.EscapeDataString(page.GetProperty("last_id").GetString()!);
        var (_, rest) = await SendAsync(http, HttpMethod.Get, $"/batches?limit=2&after={after}", Owner);
        var (_, files) = await SendAsync(http, HttpMethod.Get, "/files", Owner);

        Assert.Equal("list", page.GetProperty("object").GetString());
        Assert.True(page.GetProperty("has_more").GetBoolean());
        Assert.False(rest.GetProperty("has_more").GetBoolean());
        var listed = page.GetProperty("data").EnumerateArray().Concat(rest.GetProperty("data").EnumerateArray())
            .Select(batch => batch.GetProperty("id").GetString()!).ToList();
        Assert.Equal(made.AsEnumerable().Reverse(), listed);
        Assert.Equal(listed[0], page.GetProperty("first_id").GetString());
        Assert.Equal(3, files.GetProperty("data").GetArrayLength());
        Assert.All(files.GetProperty("data").EnumerateArray(), file => Assert.Equal("file", file.GetProperty("object").GetString()));
    }
}
