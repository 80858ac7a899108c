using System.Text;
using System.Text.Json;
using GeminiParty.FakeGemini;
using Microsoft.Extensions.DependencyInjection;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// Resources go back to the key that made them: an upload in chunks, then every request naming the file (generate,
/// get, download, a cache built from it, a generate with the cache) lands on that key, as do batches and operations
/// and the files their answers name. The fake refuses any other key with 403 and no key reason.
/// </summary>
[Collection(FrontendCollection.Name)]
public sealed class ResourceAffinityTests(FrontendFixture gateway) : IDisposable
{
    private static readonly string[] Keys = FrontendFixture.Keys;

    public void Dispose() => gateway.Upstream.ClearFaults();

    private static string GenerateWith(string part) => $$$"""{"contents":[{"role":"user","parts":[{"text":"describe"},{{{part}}}]}]}""";

    /// <summary>Which keys upstream saw for requests whose path contains <paramref name="fragment"/>.</summary>
    private int[] KeysSeenAt(string fragment) =>
        gateway.Upstream.Requests.Where(r => r.Path.Contains(fragment, StringComparison.Ordinal) || r.QueryString.Contains(fragment, StringComparison.Ordinal))
            .Select(r => Array.IndexOf(Keys, r.ApiKey)).ToArray();

    private Task<(JsonElement File, string UploadUrl)> UploadAsync(byte[] bytes, int chunk) => gateway.UploadAsync(bytes, chunk);

    [Fact]
    public async Task An_upload_in_chunks_and_every_use_of_its_file_go_to_the_key_that_made_it()
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("some notes to read. ", 500)));
        var (file, uploadUrl) = await UploadAsync(bytes, 4096);
        var name = file.GetProperty("name").GetString()!;
        var id = name["files/".Length..];

        Assert.StartsWith(gateway.BaseAddress.ToString().TrimEnd('/') + "/upload/v1beta/files?upload_id=", uploadUrl);
        Assert.DoesNotContain("key=", uploadUrl);
        var uploadId = uploadUrl[(uploadUrl.IndexOf("upload_id=", StringComparison.Ordinal) + "upload_id=".Length)..].Split('&')[0];
        var owner = KeysSeenAt(uploadId);
        Assert.Equal(3, owner.Length); // the three chunks, each with the session's id
        Assert.Single(owner.Distinct());
        var key = owner[0];

        var model = FrontendFixture.NewModel();
        for (var i = 0; i < 2 * Keys.Length; i++)
        {
            var part = i % 2 == 0
                ? $$$"""{"fileData":{"fileUri":"{{{file.GetProperty("uri").GetString()}}}","mimeType":"text/plain"}}"""
                : $$$"""{"file_data":{"file_uri":"{{{name}}}"}}""";
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", GenerateWith(part));
            Assert.Equal(200, (int)response.StatusCode);
        }
        Assert.All(gateway.KeysSeenFor(model), seen => Assert.Equal(key, seen)); // rotation would have spread them

        using (var get = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, $"/v1beta/files/{id}"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(200, (int)get.StatusCode);
        }
        using (var download = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, $"/v1beta/files/{id}:download?alt=media"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(200, (int)download.StatusCode);
            Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        }
        Assert.All(KeysSeenAt(name), seen => Assert.Equal(key, seen));

        // a cache built from the file is made with its key; generating with the cache goes there too
        using var cacheAnswer = await gateway.PostJsonAsync("/v1beta/cachedContents",
            $$$"""{"model":"models/{{{model}}}","contents":[{"role":"user","parts":[{"fileData":{"fileUri":"{{{name}}}"}}]}],"ttl":"600s"}""");
        Assert.Equal(200, (int)cacheAnswer.StatusCode);
        var cache = (await cacheAnswer.ReadJsonAsync()).GetProperty("name").GetString()!;
        var cacheModel = FrontendFixture.NewModel();
        for (var i = 0; i < Keys.Length; i++)
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{cacheModel}:generateContent",
                $$$"""{"cachedContent":"{{{cache}}}","contents":[{"role":"user","parts":[{"text":"summarize"}]}]}""");
            Assert.Equal(200, (int)response.StatusCode);
        }
        Assert.All(gateway.KeysSeenFor(cacheModel), seen => Assert.Equal(key, seen));

        using (var deleted = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Delete, $"/v1beta/files/{id}"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(200, (int)deleted.StatusCode);
        }
        Assert.All(KeysSeenAt(name), seen => Assert.Equal(key, seen));
    }

    /// <summary>
    /// A client's next request may reach another frontend the moment it has the answer: the binding must be in the
    /// cluster by then, not recorded after the answer was relayed (that raced, and a use through the other frontend got 403).
    /// </summary>
    [Fact]
    public async Task What_an_answer_makes_is_bound_to_its_key_before_the_client_has_the_answer()
    {
        var grains = gateway.Services.GetRequiredService<IGrainFactory>();
        async Task<string?> OwnerOf(string name) => (await grains.GetGrain<IResourceGrain>(name).GetAsync())?.Fingerprint;
        for (var i = 0; i < 25; i++)
        {
            var model = FrontendFixture.NewModel();
            using var created = await gateway.PostJsonAsync("/v1beta/cachedContents",
                $$$"""{"model":"models/{{{model}}}","contents":[{"role":"user","parts":[{"text":"a long document"}]}],"ttl":"600s"}""");
            Assert.Equal(200, (int)created.StatusCode);
            var cache = (await created.ReadJsonAsync()).GetProperty("name").GetString()!;
            var key = Keys[KeysSeenAt("cachedContents").Last()];
            Assert.Equal(UpstreamKeyList.Fingerprint(key), await OwnerOf(cache));
        }

        using var start = gateway.Request(HttpMethod.Post, "/upload/v1beta/files", """{"file":{"displayName":"n","mimeType":"text/plain"}}""");
        start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        start.Headers.Add("X-Goog-Upload-Command", "start");
        start.Headers.Add("X-Goog-Upload-Header-Content-Length", "5");
        using var started = await gateway.Client.SendAsync(start, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)started.StatusCode);
        var uploadUrl = started.Headers.GetValues("x-goog-upload-url").Single();
        var uploadId = uploadUrl[(uploadUrl.IndexOf("upload_id=", StringComparison.Ordinal) + "upload_id=".Length)..].Split('&')[0];
        var opened = gateway.Upstream.Requests.Last(r => r.Path.Contains("/upload/", StringComparison.Ordinal)).ApiKey!;
        Assert.Equal(UpstreamKeyList.Fingerprint(opened), await OwnerOf("uploads/" + uploadId));
    }

    [Fact]
    public async Task A_cache_kept_alive_by_updates_stays_bound_until_the_expiry_its_last_update_gave()
    {
        // caches.update with a new ttl is how a client keeps a short cache: the binding must follow each new expireTime,
        // even one less than an hour later, or once the first expiry passes the cache's uses go to keys that cannot see it
        var grains = gateway.Services.GetRequiredService<IGrainFactory>();
        var model = FrontendFixture.NewModel();
        using var created = await gateway.PostJsonAsync("/v1beta/cachedContents",
            $$$"""{"model":"models/{{{model}}}","contents":[{"role":"user","parts":[{"text":"a long document"}]}],"ttl":"300s"}""");
        Assert.Equal(200, (int)created.StatusCode);
        var cache = (await created.ReadJsonAsync()).GetProperty("name").GetString()!;

        foreach (var ttl in new[] { "1800s", "3000s" })
        {
            using var update = gateway.Request(HttpMethod.Patch, $"/v1beta/{cache}", $$"""{"ttl":"{{ttl}}"}""");
            using var updated = await gateway.Client.SendAsync(update, TestContext.Current.CancellationToken);
            Assert.Equal(200, (int)updated.StatusCode);
            var expireTime = DateTimeOffset.Parse((await updated.ReadJsonAsync()).GetProperty("expireTime").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

            var binding = await grains.GetGrain<IResourceGrain>(cache).GetAsync();
            Assert.Equal(expireTime, binding!.ExpiresAt);
        }
        Assert.Single(KeysSeenAt(cache).Distinct());
    }

    [Fact]
    public async Task A_batch_and_a_video_operation_are_polled_on_their_key_and_the_files_they_name_belong_to_it()
    {
        var model = FrontendFixture.NewModel();
        using var created = await gateway.PostJsonAsync($"/v1beta/models/{model}:batchGenerateContent",
            """{"batch":{"displayName":"b","inputConfig":{"requests":{"requests":[{"request":{"contents":[{"parts":[{"text":"hi"}]}]},"metadata":{"key":"1"}}]}}}}""");
        Assert.Equal(200, (int)created.StatusCode);
        var batch = (await created.ReadJsonAsync()).GetProperty("name").GetString()!;
        var key = gateway.KeysSeenFor(model).Single();
        for (var i = 0; i < 3; i++)
        {
            using var poll = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, "/v1beta/" + batch), TestContext.Current.CancellationToken);
            Assert.Equal(200, (int)poll.StatusCode);
        }
        Assert.All(KeysSeenAt(batch), seen => Assert.Equal(key, seen));

        var video = FrontendFixture.NewModel();
        using var started = await gateway.PostJsonAsync($"/v1beta/models/{video}:predictLongRunning", """{"instances":[{"prompt":"a cat"}]}""");
        Assert.Equal(200, (int)started.StatusCode);
        var operation = (await started.ReadJsonAsync()).GetProperty("name").GetString()!;
        var videoKey = gateway.KeysSeenFor(video).Single();
        JsonElement done;
        do
        {
            using var poll = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, "/v1beta/" + operation), TestContext.Current.CancellationToken);
            Assert.Equal(200, (int)poll.StatusCode);
            done = await poll.ReadJsonAsync();
        }
        while (!done.GetProperty("done").GetBoolean());
        var uri = new Uri(done.GetProperty("response").GetProperty("generateVideoResponse").GetProperty("generatedSamples")[0]
            .GetProperty("video").GetProperty("uri").GetString()!);
        using var download = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, uri.PathAndQuery), TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)download.StatusCode);
        var videoFile = uri.AbsolutePath["/v1beta/".Length..].Split(':')[0];
        Assert.All(KeysSeenAt(operation.Split('/')[^1]), seen => Assert.Equal(videoKey, seen));
        Assert.All(KeysSeenAt(videoFile), seen => Assert.Equal(videoKey, seen));
    }

    [Fact]
    public async Task A_cooling_owner_is_waited_for_when_it_returns_soon_and_answered_429_naming_the_resource_when_not()
    {
        var (file, _) = await UploadAsync(Encoding.UTF8.GetBytes("short file"), 4096);
        var name = file.GetProperty("name").GetString()!;
        var model = FrontendFixture.NewModel();
        using (var first = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", GenerateWith($$$"""{"fileData":{"fileUri":"{{{name}}}"}}""")))
        {
            Assert.Equal(200, (int)first.StatusCode);
        }
        var owner = gateway.KeysSeenFor(model).Single();
        var waitsBefore = AffinityWaits(await gateway.RotationStatusAsync(), owner);

        gateway.Upstream.SetFault(Keys[owner], FakeFault.RateLimitPerMinute(1), times: 1);
        using (var waited = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", GenerateWith($$$"""{"fileData":{"fileUri":"{{{name}}}"}}""")))
        {
            Assert.Equal(200, (int)waited.StatusCode); // the owner's 1 s cooldown was waited out
        }
        Assert.Equal([owner, owner, owner], gateway.KeysSeenFor(model));

        // the wait shows in /rotation-status under the owner, for the model, once (the pool has it within a report batch)
        var counted = await gateway.RotationStatusWhenAsync(status => AffinityWaits(status, owner) > waitsBefore);
        Assert.Equal(waitsBefore + 1, AffinityWaits(counted, owner));
        Assert.Equal(1, counted.KeyStatus(owner).GetProperty("models").GetProperty(model).GetProperty("affinityWaits").GetInt64());
        Assert.True(counted.GetProperty("data").GetProperty("summary").GetProperty("resources").GetProperty("affinityWaits").GetInt64() >= 1);

        gateway.Upstream.SetFault(Keys[owner], FakeFault.RateLimitPerMinute(120), times: 1);
        using (var refused = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", GenerateWith($$$"""{"fileData":{"fileUri":"{{{name}}}"}}""")))
        {
            var error = await refused.AssertGoogleErrorAsync(429);
            Assert.Contains(name, error.GetProperty("message").GetString());
            Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 100, 120);
        }
        Assert.Equal([owner, owner, owner, owner], gateway.KeysSeenFor(model)); // never another key

        var status = await gateway.RotationStatusAsync();
        for (var i = 0; i < Keys.Length; i++)
        {
            Assert.Equal(JsonValueKind.Null, status.KeyStatus(i).GetProperty("invalid").ValueKind);
        }
    }

    /// <summary>
    /// Many requests naming one file while its key cools briefly: every one waits for that key (none goes to a key that
    /// cannot see the file), all succeed, and no key is marked invalid.
    /// </summary>
    [Fact]
    public async Task Fifty_requests_naming_a_file_wait_out_its_keys_short_cooldown_and_no_key_becomes_invalid()
    {
        var (file, _) = await UploadAsync(Encoding.UTF8.GetBytes("shared file"), 4096);
        var name = file.GetProperty("name").GetString()!;
        var model = FrontendFixture.NewModel();
        using (var first = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", GenerateWith($$$"""{"fileData":{"fileUri":"{{{name}}}"}}""")))
        {
            Assert.Equal(200, (int)first.StatusCode);
        }
        var owner = gateway.KeysSeenFor(model).Single();
        gateway.Upstream.SetFault(Keys[owner], FakeFault.RateLimitPerMinute(2), times: 1);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", GenerateWith($$$"""{"fileData":{"fileUri":"{{{name}}}"}}"""));
            return (int)response.StatusCode;
        }));

        Assert.All(responses, status => Assert.Equal(200, status));
        Assert.All(gateway.KeysSeenFor(model), seen => Assert.Equal(owner, seen));
        var status = await gateway.RotationStatusAsync();
        for (var i = 0; i < Keys.Length; i++)
        {
            Assert.Equal(JsonValueKind.Null, status.KeyStatus(i).GetProperty("invalid").ValueKind);
        }
    }

    private static long AffinityWaits(JsonElement status, int key) =>
        status.KeyStatus(key).GetProperty("resources").GetProperty("affinityWaits").GetInt64();

    [Fact]
    public async Task Resources_of_two_keys_in_one_request_are_refused_with_both_named()
    {
        string[] names = new string[2];
        var keys = new HashSet<int>();
        var attempts = 0;
        while (keys.Count < 2 && attempts++ < 10)
        {
            var (file, _) = await UploadAsync(Encoding.UTF8.GetBytes("x"), 4096);
            var name = file.GetProperty("name").GetString()!;
            var model = FrontendFixture.NewModel();
            using (await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", GenerateWith($$$"""{"fileData":{"fileUri":"{{{name}}}"}}""")))
            {
            }
            var key = gateway.KeysSeenFor(model).Single();
            if (keys.Add(key))
            {
                names[keys.Count - 1] = name;
            }
        }
        var both = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{both}:generateContent",
            GenerateWith($$$"""{"fileData":{"fileUri":"{{{names[0]}}}"}},{"fileData":{"fileUri":"{{{names[1]}}}"}}"""));

        var error = await response.AssertGoogleErrorAsync(400);
        Assert.Contains(names[0], error.GetProperty("message").GetString());
        Assert.Contains(names[1], error.GetProperty("message").GetString());
        Assert.Empty(gateway.KeysSeenFor(both));
    }
}
