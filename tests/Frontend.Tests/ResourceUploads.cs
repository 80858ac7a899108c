using System.Text.Json;

namespace GeminiParty.Frontend.Tests;

/// <summary>A client's resumable upload through the gateway, as <c>@google/genai</c> sends it.</summary>
internal static class ResourceUploads
{
    /// <summary>Uploads <paramref name="bytes"/> in chunks of <paramref name="chunk"/> bytes; returns the file's JSON and the upload URL.</summary>
    public static async Task<(JsonElement File, string UploadUrl)> UploadAsync(this FrontendFixture gateway, byte[] bytes, int chunk, string displayName = "notes")
    {
        using var start = gateway.Request(HttpMethod.Post, "/upload/v1beta/files", $$$"""{"file":{"displayName":"{{{displayName}}}","mimeType":"text/plain"}}""");
        start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        start.Headers.Add("X-Goog-Upload-Command", "start");
        start.Headers.Add("X-Goog-Upload-Header-Content-Length", bytes.Length.ToString());
        start.Headers.Add("X-Goog-Upload-Header-Content-Type", "text/plain");
        using var started = await gateway.Client.SendAsync(start, TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)started.StatusCode);
        var uploadUrl = started.Headers.GetValues("x-goog-upload-url").Single();
        JsonElement file = default;
        for (var offset = 0; offset < bytes.Length; offset += chunk)
        {
            var last = offset + chunk >= bytes.Length;
            using var part = gateway.Request(HttpMethod.Post, uploadUrl);
            part.Content = new ByteArrayContent(bytes, offset, Math.Min(chunk, bytes.Length - offset));
            part.Headers.Add("X-Goog-Upload-Command", last ? "upload, finalize" : "upload");
            part.Headers.Add("X-Goog-Upload-Offset", offset.ToString());
            using var answer = await gateway.Client.SendAsync(part, TestContext.Current.CancellationToken);
            Assert.Equal(200, (int)answer.StatusCode);
            Assert.Equal(last ? "final" : "active", answer.Headers.GetValues("x-goog-upload-status").Single());
            if (last)
            {
                file = (await answer.ReadJsonAsync()).GetProperty("file").Clone();
            }
        }
        return (file, uploadUrl);
    }
}
