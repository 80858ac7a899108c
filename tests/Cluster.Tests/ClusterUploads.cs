using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace GeminiParty.Cluster.Tests;

/// <summary>Resumable uploads and requests naming files, sent through chosen frontends of a cluster.</summary>
internal static class ClusterUploads
{
    private static HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new("Bearer", ClusterFixture.Token);
        return request;
    }

    /// <summary>
    /// Starts an upload through frontend <paramref name="start"/>, then sends its chunks through the frontends in
    /// <paramref name="chunkFrontends"/> in turn, each to the upload URL's path and query on that frontend (as
    /// <c>@google/genai</c> does with its own base URL). Returns the file's name and the upload id.
    /// </summary>
    public static async Task<(string Name, string UploadId)> UploadAsync(this ClusterFixture cluster, byte[] bytes, int chunk, int start,
        int[] chunkFrontends, CancellationToken cancellationToken)
    {
        using var begin = Request(HttpMethod.Post, "/upload/v1beta/files", JsonContent.Create(new { file = new { displayName = "cluster notes" } }));
        begin.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        begin.Headers.Add("X-Goog-Upload-Command", "start");
        begin.Headers.Add("X-Goog-Upload-Header-Content-Length", bytes.Length.ToString());
        begin.Headers.Add("X-Goog-Upload-Header-Content-Type", "text/plain");
        using var started = await cluster.Client(start).SendAsync(begin, cancellationToken);
        Assert.True(200 == (int)started.StatusCode, $"start answered {(int)started.StatusCode}\n{cluster.Diagnostics()}");
        var uploadUrl = new Uri(started.Headers.GetValues("x-goog-upload-url").Single());
        var uploadId = System.Web.HttpUtility.ParseQueryString(uploadUrl.Query)["upload_id"]!;
        string? name = null;
        for (int offset = 0, i = 0; offset < bytes.Length; offset += chunk, i++)
        {
            var last = offset + chunk >= bytes.Length;
            using var part = Request(HttpMethod.Post, uploadUrl.PathAndQuery, new ByteArrayContent(bytes, offset, Math.Min(chunk, bytes.Length - offset)));
            part.Headers.Add("X-Goog-Upload-Command", last ? "upload, finalize" : "upload");
            part.Headers.Add("X-Goog-Upload-Offset", offset.ToString());
            using var answer = await cluster.Client(chunkFrontends[i % chunkFrontends.Length]).SendAsync(part, cancellationToken);
            Assert.True(200 == (int)answer.StatusCode, $"chunk {i} answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync(cancellationToken)}");
            Assert.Equal(last ? "final" : "active", answer.Headers.GetValues("x-goog-upload-status").Single());
            if (last)
            {
                using var json = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(cancellationToken));
                name = json.RootElement.GetProperty("file").GetProperty("name").GetString();
            }
        }
        return (name!, uploadId);
    }

    /// <summary>generateContent naming <paramref name="file"/>, through one frontend; the status code.</summary>
    public static async Task<int> GenerateWithFileAsync(this ClusterFixture cluster, int frontend, string model, string file, CancellationToken cancellationToken)
    {
        var body = $$$"""{"contents":[{"parts":[{"text":"read it"},{"fileData":{"fileUri":"https://generativelanguage.googleapis.com/v1beta/{{{file}}}","mimeType":"text/plain"}}]}]}""";
        using var request = Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", new StringContent(body, Encoding.UTF8, "application/json"));
        using var response = await cluster.Client(frontend).SendAsync(request, cancellationToken);
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return (int)response.StatusCode;
    }

    /// <summary>A request with a JSON body (or none) through one frontend; the status and the JSON body (or its raw text, for a stream).</summary>
    public static async Task<(int Status, JsonElement Body, string Text)> SendJsonAsync(this ClusterFixture cluster, int frontend, HttpMethod method,
        string path, string? json, CancellationToken cancellationToken)
    {
        using var request = Request(method, path, json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"));
        using var response = await cluster.Client(frontend).SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var isJson = text.StartsWith('{');
        return ((int)response.StatusCode, isJson ? JsonDocument.Parse(text).RootElement.Clone() : default, text);
    }

    /// <summary>A GET through one frontend; the status and the JSON body.</summary>
    public static async Task<(int Status, JsonElement Body)> GetJsonAsync(this ClusterFixture cluster, int frontend, string path, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, path);
        using var response = await cluster.Client(frontend).SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Which of the cluster's keys upstream saw for requests whose path or query contains <paramref name="fragment"/>.</summary>
    public static int[] KeysSeenAt(this ClusterFixture cluster, string fragment) =>
        cluster.Upstream.Requests.Where(r => r.Path.Contains(fragment, StringComparison.Ordinal) || r.QueryString.Contains(fragment, StringComparison.Ordinal))
            .Select(r => cluster.IndexOfKey(r.ApiKey)).ToArray();
}
