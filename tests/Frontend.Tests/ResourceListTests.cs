using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// Lists of key-bound resources merge every key that holds some: files made with different keys come back in one
/// list, page by page, behind the gateway's own page token; the fake lists each key's own only, as Google does.
/// </summary>
[Collection(FrontendCollection.Name)]
public sealed class ResourceListTests(FrontendFixture gateway)
{
    private static readonly string[] Keys = FrontendFixture.Keys;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Uploads files until at least <paramref name="owners"/> keys own one; returns each file's name and owner.</summary>
    private async Task<Dictionary<string, int>> UploadOnKeysAsync(int owners, int atLeast)
    {
        var files = new Dictionary<string, int>();
        while (files.Values.Distinct().Count() < owners || files.Count < atLeast)
        {
            Assert.True(files.Count < 20, "uploads should rotate over the keys");
            var (file, _) = await gateway.UploadAsync(Encoding.UTF8.GetBytes("listed " + files.Count), 4096, "listed");
            var name = file.GetProperty("name").GetString()!;
            using var get = await gateway.GetAsync("/v1beta/" + name);
            Assert.Equal(200, (int)get.StatusCode);
            files[name] = Array.IndexOf(Keys, gateway.Upstream.Requests.Last(r => r.Path == "/v1beta/" + name).ApiKey);
        }
        // the records are written as the finalize answer leaves: wait until the status counts every file
        await gateway.RotationStatusWhenAsync(status => files.Values.GroupBy(key => key)
            .All(owned => status.KeyStatus(owned.Key).GetProperty("resources").GetProperty("files").GetInt32() >= owned.Count()));
        return files;
    }

    /// <summary>Every page of a list, following nextPageToken; each page's JSON.</summary>
    private async Task<List<JsonElement>> PagesAsync(string path)
    {
        var pages = new List<JsonElement>();
        string? token = null;
        do
        {
            var separator = path.Contains('?') ? '&' : '?';
            using var response = await gateway.GetAsync(token is null ? path : $"{path}{separator}pageToken={Uri.EscapeDataString(token)}");
            Assert.Equal(200, (int)response.StatusCode);
            var page = await response.ReadJsonAsync();
            pages.Add(page);
            token = page.TryGetProperty("nextPageToken", out var next) ? next.GetString() : null;
            Assert.True(pages.Count < 100, "the list should end");
        }
        while (token is not null);
        return pages;
    }

    private static IEnumerable<string> Names(JsonElement page, string field) =>
        page.TryGetProperty(field, out var items) ? items.EnumerateArray().Select(item => item.GetProperty("name").GetString()!) : [];

    [Fact]
    public async Task Files_of_every_key_come_back_in_one_list_page_by_page()
    {
        var files = await UploadOnKeysAsync(owners: Keys.Length, atLeast: 5);

        var pages = await PagesAsync("/v1beta/files?pageSize=2");

        Assert.All(pages, page => Assert.InRange(Names(page, "files").Count(), 0, 2));
        Assert.All(pages.SkipLast(1), page => Assert.Equal(2, Names(page, "files").Count())); // only the last page is short
        var listed = pages.SelectMany(page => Names(page, "files")).ToList();
        Assert.Equal(listed.Count, listed.Distinct().Count()); // no file twice
        Assert.Subset(listed.ToHashSet(), files.Keys.ToHashSet()); // every key's files, not one key's
        foreach (var page in pages.Where(page => page.TryGetProperty("nextPageToken", out _)))
        {
            var token = page.GetProperty("nextPageToken").GetString()!;
            var decoded = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            FrontendAssertions.AssertNoUpstreamKey(decoded);
            Assert.DoesNotContain("AIza", decoded);
        }
    }

    [Fact]
    public async Task Without_pageSize_each_page_is_one_keys_page_and_the_pages_cover_every_key()
    {
        var files = await UploadOnKeysAsync(owners: 2, atLeast: 2);

        var pages = await PagesAsync("/v1/files");

        var listed = pages.SelectMany(page => Names(page, "files")).ToList();
        Assert.Equal(listed.Count, listed.Distinct().Count());
        Assert.Subset(listed.ToHashSet(), files.Keys.ToHashSet());
        Assert.True(pages.Count >= 2, "files of two keys take at least two pages without pageSize");
    }

    [Fact]
    public async Task A_page_token_the_gateway_did_not_give_is_refused_before_anything_goes_upstream()
    {
        var before = gateway.Upstream.TotalRequests;
        using (var forged = await gateway.GetAsync("/v1beta/files?pageToken=not-ours"))
        {
            var error = await forged.AssertGoogleErrorAsync(400);
            Assert.Equal("INVALID_ARGUMENT", error.GetProperty("status").GetString());
        }
        // a token of another collection's list does not page this one
        var other = Base64Url.EncodeToString("""{"c":"cachedContents","k":"abc","t":null}"""u8);
        using (var mismatched = await gateway.GetAsync("/v1beta/files?pageToken=" + other))
        {
            await mismatched.AssertGoogleErrorAsync(400);
        }
        // well-formed base64 and JSON, but a string in it is not UTF-8
        var notUtf8 = Base64Url.EncodeToString([.. "{\"c\":\"files\",\"k\":\""u8, 0xFF, 0xFE, .. "\",\"t\":null}"u8]);
        using (var garbled = await gateway.GetAsync("/v1beta/files?pageToken=" + notUtf8))
        {
            await garbled.AssertGoogleErrorAsync(400);
        }
        using (var tooBig = await gateway.GetAsync("/v1beta/files?pageSize=5000"))
        {
            await tooBig.AssertGoogleErrorAsync(400);
        }
        Assert.Equal(before, gateway.Upstream.TotalRequests);
    }

    [Fact]
    public async Task Batches_and_file_search_stores_of_every_key_are_listed_together()
    {
        var model = FrontendFixture.NewModel();
        var batches = new List<string>();
        var stores = new List<string>();
        for (var i = 0; i < Keys.Length; i++)
        {
            using var batch = await gateway.PostJsonAsync($"/v1beta/models/{model}:batchGenerateContent",
                """{"batch":{"displayName":"listed","inputConfig":{"requests":{"requests":[{"request":{"contents":[{"parts":[{"text":"hi"}]}]}}]}}}}""");
            Assert.Equal(200, (int)batch.StatusCode);
            batches.Add((await batch.ReadJsonAsync()).GetProperty("name").GetString()!);
            using var store = await gateway.PostJsonAsync("/v1beta/fileSearchStores", """{"displayName":"listed"}""");
            Assert.Equal(200, (int)store.StatusCode);
            stores.Add((await store.ReadJsonAsync()).GetProperty("name").GetString()!);
        }
        Assert.Equal(Keys.Length, gateway.KeysSeenFor(model).Distinct().Count()); // made with every key
        await gateway.RotationStatusWhenAsync(status => Enumerable.Range(0, Keys.Length).All(key =>
            status.KeyStatus(key).GetProperty("resources").GetProperty("batches").GetInt32() > 0
            && status.KeyStatus(key).GetProperty("resources").GetProperty("fileSearchStores").GetInt32() > 0));

        // Google lists batches as operations, as @google/genai reads them
        var listedBatches = (await PagesAsync("/v1beta/batches?pageSize=1")).SelectMany(page => Names(page, "operations")).ToList();
        var listedStores = (await PagesAsync("/v1beta/fileSearchStores?pageSize=10")).SelectMany(page => Names(page, "fileSearchStores")).ToList();

        Assert.Subset(listedBatches.ToHashSet(), batches.ToHashSet());
        Assert.Subset(listedStores.ToHashSet(), stores.ToHashSet());
        Assert.Equal(listedStores.Count, listedStores.Distinct().Count());
    }

    [Fact]
    public async Task Rotation_status_counts_each_keys_live_resources_and_forgets_a_deleted_one()
    {
        var (file, _) = await gateway.UploadAsync(Encoding.UTF8.GetBytes("counted"), 4096);
        var name = file.GetProperty("name").GetString()!;
        using (var get = await gateway.GetAsync("/v1beta/" + name))
        {
            Assert.Equal(200, (int)get.StatusCode);
        }
        var owner = Array.IndexOf(Keys, gateway.Upstream.Requests.Last(r => r.Path == "/v1beta/" + name).ApiKey);
        int Files(JsonElement status) => status.KeyStatus(owner).GetProperty("resources").GetProperty("files").GetInt32();
        int Total(JsonElement status) => status.GetProperty("data").GetProperty("summary").GetProperty("resources").GetProperty("files").GetInt32();
        var before = await gateway.RotationStatusAsync();

        using (var deleted = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Delete, "/v1beta/" + name), Cancel))
        {
            Assert.Equal(200, (int)deleted.StatusCode);
        }
        var after = await gateway.RotationStatusWhenAsync(status => Files(status) == Files(before) - 1);

        Assert.True(Files(before) >= 1, "the owner counts the file it made");
        Assert.Equal(Files(before) - 1, Files(after));
        Assert.Equal(Total(before) - 1, Total(after));
        var resources = after.KeyStatus(owner).GetProperty("resources");
        Assert.Equal(ResourceTotal(resources), resources.GetProperty("total").GetInt32());
    }

    private static int ResourceTotal(JsonElement resources) =>
        ResourceCounts.Collections.Sum(name => resources.GetProperty(name).GetInt32());
}
