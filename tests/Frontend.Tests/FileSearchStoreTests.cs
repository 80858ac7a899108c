using System.Text;
using System.Text.Json;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// A File Search store belongs to the key that made it, with its documents and operations: a document uploaded into it
/// (resumable, in chunks), the import operation, its documents' list and every generate that searches it go to that key.
/// </summary>
[Collection(FrontendCollection.Name)]
public sealed class FileSearchStoreTests(FrontendFixture gateway)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_its_upload_its_operation_its_documents_and_generates_that_search_it_all_use_the_key_that_made_it()
    {
        using var created = await gateway.PostJsonAsync("/v1beta/fileSearchStores", """{"displayName":"handbook"}""");
        Assert.Equal(200, (int)created.StatusCode);
        var store = (await created.ReadJsonAsync()).GetProperty("name").GetString()!;
        var owner = gateway.Upstream.Requests.Last(r => r.Path == "/v1beta/fileSearchStores").ApiKey;

        // an upload into the store: its start goes to the store's key, its chunks follow the session
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("chapter one. ", 700)));
        using var start = gateway.Request(HttpMethod.Post, $"/upload/v1beta/{store}:uploadToFileSearchStore", """{"displayName":"chapter"}""");
        start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        start.Headers.Add("X-Goog-Upload-Command", "start");
        start.Headers.Add("X-Goog-Upload-Header-Content-Length", bytes.Length.ToString());
        start.Headers.Add("X-Goog-Upload-Header-Content-Type", "text/plain");
        using var started = await gateway.Client.SendAsync(start, Cancel);
        Assert.Equal(200, (int)started.StatusCode);
        var uploadUrl = started.Headers.GetValues("x-goog-upload-url").Single();
        Assert.StartsWith(gateway.BaseAddress.ToString().TrimEnd('/') + $"/upload/v1beta/{store}:uploadToFileSearchStore?upload_id=", uploadUrl);
        JsonElement operation = default;
        for (var offset = 0; offset < bytes.Length; offset += 4096)
        {
            var last = offset + 4096 >= bytes.Length;
            using var part = gateway.Request(HttpMethod.Post, uploadUrl);
            part.Content = new ByteArrayContent(bytes, offset, Math.Min(4096, bytes.Length - offset));
            part.Headers.Add("X-Goog-Upload-Command", last ? "upload, finalize" : "upload");
            part.Headers.Add("X-Goog-Upload-Offset", offset.ToString());
            using var answer = await gateway.Client.SendAsync(part, Cancel);
            Assert.Equal(200, (int)answer.StatusCode);
            Assert.Equal(last ? "final" : "active", answer.Headers.GetValues("x-goog-upload-status").Single());
            if (last)
            {
                operation = await answer.ReadJsonAsync();
            }
        }
        var document = operation.GetProperty("response").GetProperty("documentName").GetString()!;
        Assert.StartsWith(store + "/documents/", document);

        using (var polled = await gateway.GetAsync("/v1beta/" + operation.GetProperty("name").GetString()))
        {
            Assert.Equal(200, (int)polled.StatusCode);
            Assert.True((await polled.ReadJsonAsync()).GetProperty("done").GetBoolean());
        }
        using (var documents = await gateway.GetAsync($"/v1beta/{store}/documents"))
        {
            Assert.Equal(200, (int)documents.StatusCode);
            Assert.Equal(document, (await documents.ReadJsonAsync()).GetProperty("documents")[0].GetProperty("name").GetString());
        }
        var model = FrontendFixture.NewModel();
        for (var i = 0; i < 2 * FrontendFixture.Keys.Length; i++)
        {
            using var generated = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent",
                $$$"""{"contents":[{"role":"user","parts":[{"text":"what does chapter one say?"}]}],"tools":[{"fileSearch":{"fileSearchStoreNames":["{{{store}}}"]}}]}""");
            Assert.Equal(200, (int)generated.StatusCode); // the fake refuses a store of another key with 403
        }
        using (var deleted = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Delete, $"/v1beta/{store}?force=true"), Cancel))
        {
            Assert.Equal(200, (int)deleted.StatusCode);
        }

        var id = store["fileSearchStores/".Length..];
        var uploadId = uploadUrl[(uploadUrl.IndexOf("upload_id=", StringComparison.Ordinal) + "upload_id=".Length)..].Split('&')[0];
        var seen = gateway.Upstream.Requests.Where(r => r.Path.Contains(id, StringComparison.Ordinal) || r.QueryString.Contains(uploadId, StringComparison.Ordinal)
            || r.Model == model).ToList();
        var chunks = (bytes.Length + 4095) / 4096;
        // start, chunks, operation, documents, generates, delete: each once, nothing retried elsewhere
        Assert.Equal(1 + chunks + 1 + 1 + 2 * FrontendFixture.Keys.Length + 1, seen.Count);
        Assert.All(seen, request => Assert.Equal(owner, request.ApiKey));
    }
}
