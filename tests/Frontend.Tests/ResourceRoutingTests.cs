using System.Text;
using System.Text.Json;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// In a pool of four keys, requests that name resources go to the keys that made them while the requests beside them
/// that name none keep rotating over the whole pool.
/// </summary>
[Collection(FourKeyCollection.Name)]
public sealed class ResourceRoutingTests(FourKeyFrontendFixture gateway)
{
    private static readonly string[] Keys = FourKeyFrontendFixture.FourKeys;

    [Fact]
    public async Task Fifty_requests_naming_files_of_four_keys_land_on_their_owners_while_unrelated_requests_rotate()
    {
        // one file per key: uploads rotate, so each key makes one within a few
        var files = new Dictionary<int, string>();
        for (var attempt = 0; files.Count < Keys.Length; attempt++)
        {
            Assert.True(attempt < 4 * Keys.Length, "uploads should rotate over the four keys");
            var (file, _) = await gateway.UploadAsync(Encoding.UTF8.GetBytes("owned " + attempt), 4096);
            var name = file.GetProperty("name").GetString()!;
            using var get = await gateway.GetAsync("/v1beta/" + name);
            Assert.Equal(200, (int)get.StatusCode);
            files.TryAdd(Array.IndexOf(Keys, gateway.Upstream.Requests.Last(r => r.Path == "/v1beta/" + name).ApiKey), name);
        }
        // a model per owner, so where each request landed can be read at the fake
        var models = Enumerable.Range(0, Keys.Length).Select(_ => FrontendFixture.NewModel()).ToArray();
        var unrelated = FrontendFixture.NewModel();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            var owner = i / 2 % Keys.Length;
            var (model, body) = i % 2 == 0
                ? (models[owner], $$$"""{"contents":[{"role":"user","parts":[{"text":"read"},{"fileData":{"fileUri":"https://generativelanguage.googleapis.com/v1beta/{{{files[owner]}}}","mimeType":"text/plain"}}]}]}""")
                : (unrelated, FrontendAssertions.Prompt);
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", body);
            return (int)response.StatusCode;
        }));

        Assert.All(statuses, status => Assert.Equal(200, status));
        for (var owner = 0; owner < Keys.Length; owner++)
        {
            var seen = gateway.FourKeysSeenFor(models[owner]);
            Assert.NotEmpty(seen);
            Assert.All(seen, key => Assert.Equal(owner, key));
        }
        var rotated = gateway.FourKeysSeenFor(unrelated);
        Assert.Equal(25, rotated.Length); // each once: nothing was refused and retried
        Assert.Equal(Enumerable.Range(0, Keys.Length), rotated.Distinct().Order()); // spread over the whole pool
        var status = await gateway.RotationStatusAsync();
        for (var i = 0; i < Keys.Length; i++)
        {
            Assert.Equal(JsonValueKind.Null, status.KeyStatus(i).GetProperty("invalid").ValueKind);
        }
    }
}
