using System.Net;
using System.Text;
using System.Text.Json;

namespace GeminiParty.FakeGemini.Tests;

/// <summary>The fake's key-owned resources: lists paged as Google's, and File Search stores refused to other keys.</summary>
public sealed class ResourceApiTests
{
    private const string Owner = "AIzaResourceOwnerKey";
    private const string Other = "AIzaResourceOtherKey";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HttpRequestMessage Post(string path, string key, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-goog-api-key", key);
        return request;
    }

    [Fact]
    public async Task A_list_shows_the_keys_own_in_pages_with_an_opaque_token_and_is_empty_for_another_key()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var made = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var created = await http.SendAsync(Post("/v1beta/fileSearchStores", Owner, $$"""{"displayName":"store {{i}}"}"""), Ct);
            made.Add((await created.ReadJsonAsync(Ct)).GetProperty("name").GetString()!);
        }

        using var first = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/fileSearchStores?pageSize=2", Owner), Ct);
        var page = await first.ReadJsonAsync(Ct);
        var token = page.GetProperty("nextPageToken").GetString()!;
        using var second = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/fileSearchStores?pageSize=2&pageToken=" + Uri.EscapeDataString(token), Owner), Ct);
        var rest = await second.ReadJsonAsync(Ct);
        using var foreign = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/fileSearchStores", Other), Ct);

        Assert.Equal(2, page.GetProperty("fileSearchStores").GetArrayLength());
        Assert.Equal(1, rest.GetProperty("fileSearchStores").GetArrayLength());
        Assert.False(rest.TryGetProperty("nextPageToken", out _));
        var listed = page.GetProperty("fileSearchStores").EnumerateArray().Concat(rest.GetProperty("fileSearchStores").EnumerateArray())
            .Select(store => store.GetProperty("name").GetString()!);
        Assert.Equal(made.Order(), listed.Order());
        Assert.Equal("{}", (await foreign.Content.ReadAsStringAsync(Ct)).Trim());
    }

    [Fact]
    public async Task A_store_is_refused_to_another_key_in_a_generate_and_on_its_own_routes()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        using var created = await http.SendAsync(Post("/v1beta/fileSearchStores", Owner, "{}"), Ct);
        var store = (await created.ReadJsonAsync(Ct)).GetProperty("name").GetString()!;
        var search = $$$"""{"contents":[{"parts":[{"text":"q"}]}],"tools":[{"fileSearch":{"fileSearchStoreNames":["{{{store}}}"]}}]}""";

        using var mine = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Owner, search), Ct);
        using var theirs = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Other, search), Ct);
        using var get = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/" + store, Other), Ct);

        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, theirs.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, get.StatusCode);
        var error = (await get.ReadJsonAsync(Ct)).GetProperty("error");
        Assert.Equal("PERMISSION_DENIED", error.GetProperty("status").GetString());
        Assert.False(error.TryGetProperty("details", out var details) && details.GetArrayLength() > 0); // no key reason: not the key's fault
    }
}
