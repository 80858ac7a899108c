using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Batch;
using OpenAI.Files;

#pragma warning disable OPENAI001 // the SDK's batch client is marked experimental

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// Google's OpenAI-compatible Batch API through the official OpenAI .NET SDK, in a pool of four keys: the input file,
/// the batch made from it, its polls, its output file and the deletions all reach the one key that holds them, whatever
/// the rotation would pick, with the ids in the path however a client writes them.
/// </summary>
[Collection(FourKeyCollection.Name)]
public sealed class OpenAiBatchTests(FourKeyFrontendFixture gateway)
{
    private static readonly string[] Keys = FourKeyFrontendFixture.FourKeys;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_batch_goes_from_upload_to_results_on_the_key_that_holds_its_input_file()
    {
        var model = FrontendFixture.NewModel();
        var client = new OpenAIClient(new ApiKeyCredential(FrontendFixture.Token), Options());
        var files = client.GetOpenAIFileClient();
        var batches = client.GetBatchClient();
        var lines = string.Join("\n", Enumerable.Range(1, 3).Select(i =>
            $$$"""{"custom_id":"request-{{{i}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"{{{model}}}","messages":[{"role":"user","content":"Question {{{i}}}"}]}}"""));

        OpenAIFile input = await files.UploadFileAsync(BinaryData.FromString(lines), "requests.jsonl", FileUploadPurpose.Batch);
        Assert.StartsWith("files/", input.Id);
        var owner = OwnerOf(input.Id);

        var create = BinaryContent.Create(BinaryData.FromObjectAsJson(new
        {
            input_file_id = input.Id,
            endpoint = "/v1/chat/completions",
            completion_window = "24h",
        }));
        var operation = await batches.CreateBatchAsync(create, waitUntilCompleted: false, new RequestOptions { CancellationToken = Cancel });
        Assert.StartsWith("batches/", operation.BatchId);
        JsonElement batch = default;
        for (var poll = 0; poll < 4 && Status(batch) != "completed"; poll++)
        {
            var polled = await operation.GetBatchAsync(new RequestOptions { CancellationToken = Cancel });
            batch = JsonDocument.Parse(polled.GetRawResponse().Content).RootElement.Clone();
        }
        Assert.Equal("completed", Status(batch));
        var outputId = batch.GetProperty("output_file_id").GetString()!;
        BinaryData output = await files.DownloadFileAsync(outputId, Cancel);
        var answers = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("custom_id").GetString()).ToArray();
        Assert.Equal(["request-1", "request-2", "request-3"], answers);
        OpenAIFile described = await files.GetFileAsync(outputId, Cancel);
        Assert.Equal(outputId, described.Id);
        FileDeletionResult deleted = await files.DeleteFileAsync(input.Id, Cancel);
        Assert.True(deleted.Deleted);

        // every call about these resources, escaped ids and all, went to the key that made the input file
        var about = gateway.Upstream.Requests.Where(r => Names(r.Path, input.Id, operation.BatchId, outputId)
            || r.Method == "POST" && r.Path == "/v1beta/openai/batches" && r.Model == model).ToArray();
        Assert.True(about.Length >= 6, $"expected the batch's create, polls, download, get and delete upstream, saw {about.Length}");
        Assert.All(about, request => Assert.Equal(owner, request.ApiKey));
        Assert.All(about, request => Assert.InRange(request.Status, 200, 299));
    }

    [Fact]
    public async Task A_batch_is_cancelled_on_its_key_and_stays_cancelled()
    {
        var client = new OpenAIClient(new ApiKeyCredential(FrontendFixture.Token), Options());
        var line = $$$"""{"custom_id":"only","method":"POST","url":"/v1/chat/completions","body":{"model":"{{{FrontendFixture.NewModel()}}}","messages":[{"role":"user","content":"Hi"}]}}""";
        OpenAIFile input = await client.GetOpenAIFileClient().UploadFileAsync(BinaryData.FromString(line), "cancel.jsonl", FileUploadPurpose.Batch);
        var owner = OwnerOf(input.Id);
        var operation = await client.GetBatchClient().CreateBatchAsync(
            BinaryContent.Create(BinaryData.FromObjectAsJson(new { input_file_id = input.Id, endpoint = "/v1/chat/completions", completion_window = "24h" })),
            waitUntilCompleted: false, new RequestOptions { CancellationToken = Cancel });

        var cancelled = await operation.CancelAsync(new RequestOptions { CancellationToken = Cancel });
        var polled = await operation.GetBatchAsync(new RequestOptions { CancellationToken = Cancel });

        Assert.Equal("cancelled", JsonDocument.Parse(cancelled.GetRawResponse().Content).RootElement.GetProperty("status").GetString());
        Assert.Equal("cancelled", JsonDocument.Parse(polled.GetRawResponse().Content).RootElement.GetProperty("status").GetString());
        var about = gateway.Upstream.Requests.Where(r => Names(r.Path, operation.BatchId)).ToArray();
        Assert.Equal(2, about.Length); // the cancel and the get, each answered by the first key asked
        Assert.All(about, r => Assert.Equal(owner, r.ApiKey));
    }

    [Theory]
    [InlineData("{0}")]             // escaped, as the openai and OpenAI .NET SDKs send it
    [InlineData("{1}")]             // as it is, as a client that pastes the id sends it
    [InlineData("{2}")]             // the bare id
    public async Task A_file_id_in_the_path_reaches_its_owner_however_it_is_written(string form)
    {
        var files = new OpenAIFileClient(new ApiKeyCredential(FrontendFixture.Token), Options());
        OpenAIFile file = await files.UploadFileAsync(BinaryData.FromString("{\"custom_id\":\"a\"}"), "one.jsonl", FileUploadPurpose.Batch);
        var owner = OwnerOf(file.Id);
        var id = file.Id["files/".Length..];
        var path = string.Format(System.Globalization.CultureInfo.InvariantCulture, form, "files%2F" + id, "files/" + id, id);

        // four gets: rotation alone would have sent three of them to keys that cannot see the file
        for (var i = 0; i < 4; i++)
        {
            using var response = await gateway.GetAsync($"/v1beta/openai/files/{path}");
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal(file.Id, (await response.ReadJsonAsync()).GetProperty("id").GetString());
        }
        using var content = await gateway.GetAsync($"/v1beta/openai/files/{path}/content");
        Assert.Equal(200, (int)content.StatusCode);
        Assert.Equal("{\"custom_id\":\"a\"}", await content.Content.ReadAsStringAsync(Cancel));
        Assert.All(gateway.Upstream.Requests.Where(r => r.Path.Contains(id, StringComparison.Ordinal)), r => Assert.Equal(owner, r.ApiKey));
    }

    [Fact]
    public async Task Files_made_outside_the_gateway_get_one_attempt_each_and_their_403s_blame_no_key()
    {
        // made straight at upstream, so the gateway has no record of them; owners 0, 2, 0, 2, while four requests in a
        // row rotate over all four keys: at most two can land on their owner
        var ids = new List<string>();
        for (var j = 0; j < Keys.Length; j++)
        {
            ids.Add(await MakeOutsideAsync(Keys[2 * j % Keys.Length]));
        }
        var before = gateway.Upstream.TotalRequests;

        var statuses = new List<int>();
        foreach (var id in ids)
        {
            using var response = await gateway.GetAsync("/v1beta/openai/files/" + Uri.EscapeDataString(id));
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal(before + ids.Count, gateway.Upstream.TotalRequests); // one attempt each: a resource's 403 is not retried
        Assert.True(statuses.Count(status => status == 403) >= 2, string.Join(", ", statuses)); // other projects' keys cannot see them
        Assert.All(statuses, status => Assert.Contains(status, new[] { 200, 403 }));
        var keys = (await gateway.RotationStatusAsync()).GetProperty("data").GetProperty("keys").EnumerateArray();
        Assert.All(keys, key => Assert.NotEqual("invalid", key.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task An_input_file_larger_than_a_request_body_streams_through_to_one_key()
    {
        // 31 MB: over MAX_REQUEST_BODY_MB (30), which a buffered request may not exceed; an upload may (MAX_UPLOAD_MB)
        var line = "{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"m\",\"messages\":[]}}\n";
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(line, 31 * 1024 * 1024 / line.Length + 1)));
        using var form = new MultipartFormDataContent
        {
            { new StringContent("batch"), "purpose" },
            { new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/jsonl") } }, "file", "big.jsonl" },
        };
        var uploads = gateway.Upstream.Requests.Count(r => r.Method == "POST" && r.Path == "/v1beta/openai/files");

        using var response = await gateway.Client.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/v1beta/openai/files") { Content = form, Headers = { Authorization = new("Bearer", FrontendFixture.Token) } },
            Cancel);

        Assert.Equal(200, (int)response.StatusCode);
        var file = await response.ReadJsonAsync();
        Assert.Equal(bytes.Length, file.GetProperty("bytes").GetInt64());
        Assert.Equal(uploads + 1, gateway.Upstream.Requests.Count(r => r.Method == "POST" && r.Path == "/v1beta/openai/files"));
    }

    [Fact]
    public async Task The_files_list_pages_over_every_key_by_the_last_id_the_client_saw()
    {
        var files = new OpenAIClient(new ApiKeyCredential(FrontendFixture.Token), Options()).GetOpenAIFileClient();
        var made = new Dictionary<string, string>();
        for (var i = 0; i < 8; i++)
        {
            OpenAIFile file = await files.UploadFileAsync(BinaryData.FromString($"{{\"custom_id\":\"listed-{i}\"}}"), $"listed-{i}.jsonl", FileUploadPurpose.Batch);
            made[file.Id] = OwnerOf(file.Id);
        }
        Assert.Equal(Keys.Length, made.Values.Distinct().Count()); // uploads rotate: every key holds some
        // and two made straight at upstream, which a key's list shows though the gateway has no record of them
        var outside = new[] { await MakeOutsideAsync(Keys[1]), await MakeOutsideAsync(Keys[2]) };

        // a page of one: every item is a page's last, whose id must lead the next page back to its key
        var seen = new List<string>();
        string? after = null;
        for (var page = 0; ; page++)
        {
            Assert.True(page < 500, "the list should end");
            using var response = await gateway.GetAsync("/v1beta/openai/files?limit=1" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after)));
            Assert.True(200 == (int)response.StatusCode, $"page {page} after {after}: {await response.Content.ReadAsStringAsync(Cancel)}");
            var list = await response.ReadJsonAsync();
            Assert.Equal("list", list.GetProperty("object").GetString());
            var ids = list.GetProperty("data").EnumerateArray().Select(file => file.GetProperty("id").GetString()!).ToArray();
            Assert.True(ids.Length <= 1);
            seen.AddRange(ids);
            if (!list.GetProperty("has_more").GetBoolean())
            {
                break;
            }
            after = list.GetProperty("last_id").GetString();
            Assert.Equal(ids[^1], after);
        }

        Assert.Equal(seen.Count, seen.Distinct().Count()); // no file twice
        Assert.Empty(made.Keys.Concat(outside).Except(seen)); // and none missing, whichever key holds it
        // each key was asked for its own files only
        var listed = gateway.Upstream.Requests.Where(r => r.Method == "GET" && r.Path == "/v1beta/openai/files").ToArray();
        Assert.Equal(Keys.Order(), listed.Select(r => r.ApiKey!).Distinct().Order());

        using var unknown = await gateway.GetAsync("/v1beta/openai/files?after=files%2Fnever-made");
        Assert.Equal(400, (int)unknown.StatusCode);
        Assert.Contains("start the list again", (await unknown.ReadJsonAsync()).GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task The_sdk_on_the_v1_root_is_told_where_the_files_and_batch_api_are_and_nothing_goes_upstream()
    {
        var onV1 = new OpenAIClient(new ApiKeyCredential(FrontendFixture.Token), Options("/v1"));
        var before = gateway.Upstream.TotalRequests;

        var upload = await Assert.ThrowsAsync<ClientResultException>(() =>
            onV1.GetOpenAIFileClient().UploadFileAsync(BinaryData.FromString("{}"), "in.jsonl", FileUploadPurpose.Batch));
        var content = await Assert.ThrowsAsync<ClientResultException>(() => onV1.GetOpenAIFileClient().DownloadFileAsync("files/abc", Cancel));
        using var create = await gateway.PostJsonAsync("/v1/batches", """{"input_file_id":"files/abc","endpoint":"/v1/chat/completions","completion_window":"24h"}""");

        Assert.Equal(404, upload.Status);
        Assert.Contains("/v1beta/openai/", upload.Message);
        Assert.Equal(404, content.Status);
        Assert.Equal(404, (int)create.StatusCode);
        Assert.Contains("/v1beta/openai/", (await create.ReadJsonAsync()).GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(before, gateway.Upstream.TotalRequests);
        // the native API's own calls under /v1 go on as before
        using var native = await gateway.GetAsync("/v1/files/abc:download?alt=media");
        Assert.Equal(before + 1, gateway.Upstream.TotalRequests);
    }

    /// <summary>A file made straight at upstream with <paramref name="key"/>, of which the gateway knows nothing; its id.</summary>
    private async Task<string> MakeOutsideAsync(string key)
    {
        using var direct = new HttpClient { BaseAddress = new Uri(gateway.Upstream.BaseAddress) };
        using var form = new MultipartFormDataContent { { new StringContent("batch"), "purpose" }, { new StringContent("{}"), "file", "outside.jsonl" } };
        using var made = await direct.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1beta/openai/files")
        {
            Content = form,
            Headers = { Authorization = new("Bearer", key) },
        }, Cancel);
        Assert.Equal(200, (int)made.StatusCode);
        return (await made.ReadJsonAsync()).GetProperty("id").GetString()!;
    }

    /// <summary>The key the fake saw make a resource (its create's answer named it).</summary>
    private string OwnerOf(string id) =>
        gateway.Upstream.Requests.Last(r => r.Method == "POST" && r.Status == 200 && r.Path == "/v1beta/openai/files").ApiKey
            is { } key && Array.IndexOf(Keys, key) >= 0 ? key : throw new InvalidOperationException($"no upload of {id} seen");

    private static string? Status(JsonElement batch) => batch.ValueKind == JsonValueKind.Object ? batch.GetProperty("status").GetString() : null;

    private static bool Names(string path, params string[] ids) =>
        path.StartsWith("/v1beta/openai/", StringComparison.Ordinal)
        && ids.Any(id => path.Contains(id, StringComparison.Ordinal) || path.Contains(id.Replace("/", "%2F", StringComparison.Ordinal), StringComparison.Ordinal));

    private OpenAIClientOptions Options(string root = "/v1beta/openai") => new()
    {
        Endpoint = new Uri(gateway.BaseAddress, root),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    };
}
