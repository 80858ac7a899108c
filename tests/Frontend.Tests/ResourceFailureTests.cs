using System.Text;
using System.Text.Json;
using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// Upstream refusals about a resource are the client's answer: returned as Google sent them (with the resumable-upload
/// headers an upload client reads), tried once, and never held against the key.
/// </summary>
[Collection(FrontendCollection.Name)]
public sealed class ResourceFailureTests(FrontendFixture gateway) : IDisposable
{
    private static readonly string[] Keys = FrontendFixture.Keys;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose() => gateway.Upstream.ClearFaults();

    [Fact]
    public async Task A_failed_precondition_about_a_request_naming_a_file_is_returned_once_and_leaves_the_key_usable()
    {
        var (file, _) = await gateway.UploadAsync(Encoding.UTF8.GetBytes("a file"), 4096);
        var name = file.GetProperty("name").GetString()!;
        var model = FrontendFixture.NewModel();
        var body = $$$"""{"contents":[{"role":"user","parts":[{"text":"read"},{"fileData":{"fileUri":"{{{name}}}"}}]}]}""";
        using (var first = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", body))
        {
            Assert.Equal(200, (int)first.StatusCode);
        }
        var owner = gateway.KeysSeenFor(model).Single();

        gateway.Upstream.SetFault(Keys[owner], FakeFault.LocationNotSupported, times: 1);
        using (var refused = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", body))
        {
            var error = await refused.AssertGoogleErrorAsync(400);
            Assert.Equal("FAILED_PRECONDITION", error.GetProperty("status").GetString());
            Assert.Contains("User location is not supported", error.GetProperty("message").GetString());
        }
        using (var again = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", body))
        {
            Assert.Equal(200, (int)again.StatusCode);
        }

        Assert.Equal([owner, owner, owner], gateway.KeysSeenFor(model)); // once each, never another key
        var status = await gateway.RotationStatusAsync();
        var key = status.KeyStatus(owner);
        Assert.Equal(JsonValueKind.Null, key.GetProperty("invalid").ValueKind);
        Assert.DoesNotContain(key.GetProperty("cooldowns").EnumerateArray(), cooldown => cooldown.GetProperty("model").GetString() == model);
    }

    [Fact]
    public async Task A_chunk_upstream_refuses_reaches_the_client_with_the_upload_headers_it_reads()
    {
        using var start = gateway.Request(HttpMethod.Post, "/upload/v1beta/files", """{"file":{"displayName":"offsets"}}""");
        start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        start.Headers.Add("X-Goog-Upload-Command", "start");
        using var started = await gateway.Client.SendAsync(start, Cancel);
        Assert.Equal(200, (int)started.StatusCode);
        var uploadUrl = started.Headers.GetValues("x-goog-upload-url").Single();

        // a chunk at the wrong offset: Google answers 400 and says where the session stands
        using var misplaced = gateway.Request(HttpMethod.Post, uploadUrl);
        misplaced.Content = new ByteArrayContent(Encoding.UTF8.GetBytes("late bytes"));
        misplaced.Headers.Add("X-Goog-Upload-Command", "upload");
        misplaced.Headers.Add("X-Goog-Upload-Offset", "100");
        using var refused = await gateway.Client.SendAsync(misplaced, Cancel);

        Assert.Equal(400, (int)refused.StatusCode);
        Assert.Equal("active", refused.Headers.GetValues("x-goog-upload-status").Single());

        using var query = gateway.Request(HttpMethod.Post, uploadUrl);
        query.Headers.Add("X-Goog-Upload-Command", "query");
        using var queried = await gateway.Client.SendAsync(query, Cancel);
        Assert.Equal(200, (int)queried.StatusCode);
        Assert.Equal("0", queried.Headers.GetValues("x-goog-upload-size-received").Single());
        Assert.Equal("active", queried.Headers.GetValues("x-goog-upload-status").Single());
    }
}
