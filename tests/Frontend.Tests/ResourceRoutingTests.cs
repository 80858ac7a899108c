using System.Text;
using System.Text.Json;
using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// In a pool of four keys, requests that name resources go to the keys that made them while the requests beside them
/// that name none keep rotating over the whole pool; when the key that made a file cools, requests naming it wait for
/// it or are answered 429, and never go to a key that cannot see the file.
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

    /// <summary>
    /// Key A made a file and cools for 8 s (twice MAX_AFFINITY_WAIT): the requests naming the file while A is further off
    /// than a request may wait get 429 with Retry-After and the file's name, at once; those sent once A is near get to
    /// wait for it and succeed on A. None goes to another key, and no key is marked invalid.
    /// </summary>
    [Fact]
    public async Task Fifty_requests_naming_a_file_of_a_key_that_cools_then_returns_get_429_then_wait_for_it_and_no_key_becomes_invalid()
    {
        var (file, _) = await gateway.UploadAsync(Encoding.UTF8.GetBytes("a file of key A"), 4096);
        var name = file.GetProperty("name").GetString()!;
        var model = FrontendFixture.NewModel();
        var body = $$$"""{"contents":[{"role":"user","parts":[{"text":"read"},{"fileData":{"fileUri":"{{{name}}}","mimeType":"text/plain"}}]}]}""";
        using (var first = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", body))
        {
            Assert.Equal(200, (int)first.StatusCode);
        }
        var a = gateway.FourKeysSeenFor(model).Single();
        var waitsBefore = AffinityWaits(await gateway.RotationStatusAsync(), a);

        // A answers 429 with an 8 s retry delay: the request that met it cannot wait that long, and says why
        gateway.Upstream.SetFault(Keys[a], FakeFault.RateLimitPerMinute(8), times: 1);
        var early = new List<(int Status, TimeSpan? RetryAfter, string? Message)> { await SendAsync(model, body) };
        // the rest of the first half while A is still further off than MAX_AFFINITY_WAIT
        early.AddRange(await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => SendAsync(model, body))));

        // A comes back: once its cooldown is within MAX_AFFINITY_WAIT, the second half waits for it
        await gateway.RotationStatusWhenAsync(status => RemainingMs(status, a, model) < FourKeyFrontendFixture.MaxAffinityWaitMs - 500);
        var late = await Task.WhenAll(Enumerable.Range(0, 25).Select(_ => SendAsync(model, body)));

        Assert.All(early, answer =>
        {
            Assert.Equal(429, answer.Status);
            Assert.Contains(name, answer.Message);
            Assert.NotNull(answer.RetryAfter);
            Assert.InRange(answer.RetryAfter.Value.TotalSeconds, FourKeyFrontendFixture.MaxAffinityWaitMs / 1000, 8);
        });
        Assert.All(late, answer => Assert.Equal(200, answer.Status));
        // upstream saw the first request, the one that met the 429, and the 25 that waited: all on A
        var seen = gateway.FourKeysSeenFor(model);
        Assert.Equal(27, seen.Length);
        Assert.All(seen, key => Assert.Equal(a, key));

        var status = await gateway.RotationStatusWhenAsync(s => AffinityWaits(s, a) >= waitsBefore + late.Length);
        Assert.Equal(waitsBefore + late.Length, AffinityWaits(status, a)); // each waiting request once, under A
        Assert.Equal(late.Length, status.KeyStatus(a).GetProperty("models").GetProperty(model).GetProperty("affinityWaits").GetInt64());
        for (var i = 0; i < Keys.Length; i++)
        {
            Assert.Equal(JsonValueKind.Null, status.KeyStatus(i).GetProperty("invalid").ValueKind);
            Assert.DoesNotContain(status.KeyStatus(i).GetProperty("cooldowns").EnumerateArray(), c => c.GetProperty("model").GetString() == model);
        }
    }

    private async Task<(int Status, TimeSpan? RetryAfter, string? Message)> SendAsync(string model, string body)
    {
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", body);
        if (response.IsSuccessStatusCode)
        {
            return ((int)response.StatusCode, null, null);
        }
        var error = await response.AssertGoogleErrorAsync((int)response.StatusCode);
        return ((int)response.StatusCode, response.Headers.RetryAfter?.Delta, error.GetProperty("message").GetString());
    }

    private static long AffinityWaits(JsonElement status, int key) =>
        status.KeyStatus(key).GetProperty("resources").GetProperty("affinityWaits").GetInt64();

    /// <summary>How long <paramref name="key"/> still cools for <paramref name="model"/>; 0 once it is back.</summary>
    private static long RemainingMs(JsonElement status, int key, string model) =>
        status.KeyStatus(key).GetProperty("cooldowns").EnumerateArray()
            .Where(c => c.GetProperty("model").GetString() == model)
            .Select(c => c.GetProperty("remainingMs").GetInt64()).FirstOrDefault();
}
