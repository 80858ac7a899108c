using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>
/// Files (resumable upload in chunks, get, list, delete, download), cached contents, batches and long-running operations
/// (File Search stores: <see cref="FileSearchStoreEndpoints"/>), lists paged as Google's,
/// each owned by the key that made it: another key gets 403 PERMISSION_DENIED without a key reason.
/// </summary>
internal static class ResourceEndpoints
{
    public static IEndpointRouteBuilder MapResourceApi(this IEndpointRouteBuilder app, FakeGeminiState state)
    {
        var resources = state.Resources;
        foreach (var version in new[] { "/v1beta", "/v1", "/v1alpha" })
        {
            app.MapPost("/upload" + version + "/files", context => UploadAsync(context, resources));
            app.MapGet(version + "/files", context => ListAsync(context, resources, "file", "files"));
            app.MapGet(version + "/files/{id}", (string id, HttpContext context) => GetFileAsync(context, resources, id));
            app.MapDelete(version + "/files/{id}", (string id, HttpContext context) => DeleteAsync(context, resources, "files/" + id));
            app.MapGet("/download" + version + "/files/{id}", (string id, HttpContext context) => GetFileAsync(context, resources, id));
            app.MapPost(version + "/cachedContents", context => CreateCacheAsync(context, resources));
            app.MapGet(version + "/cachedContents", context => ListAsync(context, resources, "cache", "cachedContents"));
            app.MapGet(version + "/cachedContents/{id}", (string id, HttpContext context) => GetCacheAsync(context, resources, "cachedContents/" + id));
            app.MapPatch(version + "/cachedContents/{id}", (string id, HttpContext context) => UpdateCacheAsync(context, resources, "cachedContents/" + id));
            app.MapDelete(version + "/cachedContents/{id}", (string id, HttpContext context) => DeleteAsync(context, resources, "cachedContents/" + id));
            app.MapGet(version + "/batches", context => ListAsync(context, resources, "batch", "operations"));
            app.MapGet(version + "/batches/{id}", (string id, HttpContext context) => GetBatchAsync(context, resources, "batches/" + id));
            app.MapPost(version + "/batches/{id}:cancel", (string id, HttpContext context) => CancelBatchAsync(context, resources, "batches/" + id));
            app.MapDelete(version + "/batches/{id}", (string id, HttpContext context) => DeleteAsync(context, resources, "batches/" + id));
            app.MapGet(version + "/operations", context => ListAsync(context, resources, "operation", "operations"));
            app.MapGet(version + "/models/{model}/operations/{id}", (string model, string id, HttpContext context) =>
                GetOperationAsync(context, resources, $"models/{model}/operations/{id}"));
            app.MapGet(version + "/operations/{id}", (string id, HttpContext context) => GetOperationAsync(context, resources, "operations/" + id));
        }
        return app;
    }

    internal static string Key(HttpContext context) => context.Features.Get<FakeCall>()!.ApiKey!;

    private static string BaseUrl(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}";

    /// <summary>Resource URIs name Google's host whatever address the fake listens on, as Google's answers do.</summary>
    private const string GoogleBase = "https://generativelanguage.googleapis.com";

    internal static Task DeniedAsync(HttpContext context, string name) =>
        ResponseWriter.WriteErrorAsync(context, GoogleErrors.ResourceDenied(Kind(name), name[(name.LastIndexOf('/') + 1)..]));

    internal static string Kind(string name) => name.StartsWith("files/", StringComparison.Ordinal) ? "File"
        : name.StartsWith("cachedContents/", StringComparison.Ordinal) ? "CachedContent"
        : name.StartsWith("batches/", StringComparison.Ordinal) ? "Batch"
        : name.StartsWith("fileSearchStores/", StringComparison.Ordinal) ? "FileSearchStore"
        : name.StartsWith("voices/", StringComparison.Ordinal) ? "Voice" : "Operation";

    /// <summary>The resource if <paramref name="context"/>'s key owns it; else answers 403 and returns null.</summary>
    internal static async Task<FakeResource?> OwnedAsync(HttpContext context, FakeResources resources, string name)
    {
        if (resources.Find(name) is { } resource && resource.Owner == Key(context))
        {
            return resource;
        }
        await DeniedAsync(context, name);
        return null;
    }

    /// <summary>
    /// The resumable protocol: start (metadata), then chunks at increasing offsets, the last with finalize; query asks the
    /// offset. With a <paramref name="store"/> (<c>:uploadToFileSearchStore</c>), the finalize answers the store's
    /// import operation instead of a file.
    /// </summary>
    internal static async Task UploadAsync(HttpContext context, FakeResources resources, string? store = null)
    {
        var call = context.Features.Get<FakeCall>()!;
        var command = context.Request.Headers["X-Goog-Upload-Command"].ToString().ToLowerInvariant();
        var uploadId = context.Request.Query["upload_id"].ToString();
        if (uploadId.Length == 0)
        {
            if (!command.Contains("start", StringComparison.Ordinal))
            {
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Upload has no upload_id and is not a start."));
                return;
            }
            string? mimeType = context.Request.Headers["X-Goog-Upload-Header-Content-Type"].ToString();
            string? displayName = null;
            if (call.TryGetJson(out var root) && root.ValueKind == JsonValueKind.Object && root.TryGetProperty("file", out var file) && file.ValueKind == JsonValueKind.Object)
            {
                displayName = file.TryGetProperty("displayName", out var d) ? d.GetString() : null;
                mimeType = file.TryGetProperty("mimeType", out var m) ? m.GetString() : mimeType;
            }
            if (store is not null && await OwnedAsync(context, resources, store) is null)
            {
                return;
            }
            displayName ??= call.TryGetJson(out root) && root.ValueKind == JsonValueKind.Object && root.TryGetProperty("displayName", out var storeName)
                ? storeName.GetString() : null;
            var upload = resources.StartUpload(Key(context), mimeType, displayName);
            var path = store is null ? "/upload/v1beta/files" : $"/upload/v1beta/{store}:uploadToFileSearchStore";
            context.Response.Headers["x-goog-upload-url"] = $"{BaseUrl(context)}{path}?upload_id={upload.Id}&upload_protocol=resumable";
            context.Response.Headers["x-goog-upload-status"] = "active";
            context.Response.Headers["x-goog-upload-chunk-granularity"] = "8388608";
            context.Response.StatusCode = 200;
            return;
        }
        var session = resources.FindUpload(uploadId);
        if (session is null || session.Owner != Key(context))
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.ResourceDenied("Upload", uploadId));
            return;
        }
        lock (session)
        {
            if (command.Contains("query", StringComparison.Ordinal))
            {
                context.Response.Headers["x-goog-upload-status"] = session.File is null ? "active" : "final";
                context.Response.Headers["x-goog-upload-size-received"] = session.Received.Length.ToString(CultureInfo.InvariantCulture);
                context.Response.StatusCode = 200;
                return;
            }
            var offset = long.TryParse(context.Request.Headers["X-Goog-Upload-Offset"], out var o) ? o : -1;
            if (offset != session.Received.Length || session.File is not null)
            {
                context.Response.Headers["x-goog-upload-status"] = session.File is null ? "active" : "final";
                context.Response.StatusCode = 400;
                return;
            }
            session.Received.Write(call.Body);
            session.Chunks++;
        }
        if (!command.Contains("finalize", StringComparison.Ordinal))
        {
            context.Response.Headers["x-goog-upload-status"] = "active";
            context.Response.StatusCode = 200;
            return;
        }
        if (store is not null)
        {
            await FileSearchStoreEndpoints.ImportedAsync(context, resources, store, session);
            return;
        }
        var name = "files/" + Guid.NewGuid().ToString("N")[..12];
        session.File = name;
        var resource = resources.Add(name, session.Owner, "file", session.Received.ToArray(), session.MimeType);
        context.Response.Headers["x-goog-upload-status"] = "final";
        await ResponseWriter.WriteJsonAsync(context, 200, JsonBytes.Write(json =>
        {
            json.WriteStartObject();
            json.WritePropertyName("file");
            WriteFile(json, resource, session.DisplayName);
            json.WriteEndObject();
        }));
    }

    private static void WriteFile(Utf8JsonWriter json, FakeResource file, string? displayName = null)
    {
        json.WriteStartObject();
        json.WriteString("name", file.Name);
        if (displayName is not null)
        {
            json.WriteString("displayName", displayName);
        }
        json.WriteString("mimeType", file.MimeType ?? "application/octet-stream");
        json.WriteString("sizeBytes", (file.Content?.Length ?? 0).ToString(CultureInfo.InvariantCulture));
        json.WriteString("createTime", file.Created.ToString("O", CultureInfo.InvariantCulture));
        json.WriteString("expirationTime", file.Created.AddHours(48).ToString("O", CultureInfo.InvariantCulture));
        json.WriteString("uri", $"{GoogleBase}/v1beta/{file.Name}");
        json.WriteString("downloadUri", $"{GoogleBase}/download/v1beta/{file.Name}:download?alt=media");
        json.WriteString("state", "ACTIVE");
        json.WriteEndObject();
    }

    private static async Task GetFileAsync(HttpContext context, FakeResources resources, string id)
    {
        var download = id.EndsWith(":download", StringComparison.Ordinal);
        var name = "files/" + (download ? id[..^":download".Length] : id);
        if (await OwnedAsync(context, resources, name) is not { } file)
        {
            return;
        }
        if (download || context.Request.Query["alt"] == "media")
        {
            context.Response.ContentType = file.MimeType ?? "application/octet-stream";
            await context.Response.Body.WriteAsync(file.Content ?? []);
            return;
        }
        await ResponseWriter.WriteJsonAsync(context, 200, JsonBytes.Write(json => WriteFile(json, file)));
    }

    internal static async Task DeleteAsync(HttpContext context, FakeResources resources, string name)
    {
        if (await OwnedAsync(context, resources, name) is null)
        {
            return;
        }
        resources.Remove(name);
        await ResponseWriter.WriteJsonAsync(context, 200, "{}"u8.ToArray());
    }

    /// <summary>
    /// The key's resources of one kind, in pages as Google's lists: <c>pageSize</c> (default 10, at most 100) and an
    /// opaque <c>nextPageToken</c> while more remain; an empty list is <c>{}</c>.
    /// </summary>
    internal static Task ListAsync(HttpContext context, FakeResources resources, string kind, string field, Func<FakeResource, bool>? filter = null)
    {
        var all = resources.OwnedBy(Key(context), kind).Where(filter ?? (_ => true)).ToList();
        var size = int.TryParse(context.Request.Query["pageSize"], out var asked) && asked > 0 ? Math.Min(asked, 100) : 10;
        var start = 0;
        if (context.Request.Query["pageToken"].ToString() is { Length: > 0 } token
            && (!token.StartsWith(PageTokenPrefix, StringComparison.Ordinal) || !int.TryParse(token[PageTokenPrefix.Length..], out start)))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Invalid page token."));
        }
        var page = all.Skip(start).Take(size).ToList();
        return ResponseWriter.WriteJsonAsync(context, 200, JsonBytes.Write(json =>
        {
            json.WriteStartObject();
            if (page.Count > 0)
            {
                json.WriteStartArray(field);
                foreach (var resource in page)
                {
                    if (kind == "file")
                    {
                        WriteFile(json, resource);
                    }
                    else if (kind == "cache")
                    {
                        WriteCache(json, resource);
                    }
                    else if (kind == "batch")
                    {
                        WriteBatch(json, resource, IsDone(resource));
                    }
                    else
                    {
                        json.WriteStartObject();
                        json.WriteString("name", resource.Name);
                        if (resource.DisplayName is { } displayName)
                        {
                            json.WriteString("displayName", displayName);
                        }
                        json.WriteEndObject();
                    }
                }
                json.WriteEndArray();
            }
            if (start + page.Count < all.Count)
            {
                json.WriteString("nextPageToken", PageTokenPrefix + (start + page.Count).ToString(CultureInfo.InvariantCulture));
            }
            json.WriteEndObject();
        }));
    }

    /// <summary>The fake's page tokens: an offset behind a prefix a client should not rely on.</summary>
    private const string PageTokenPrefix = "fake-page-";

    private static async Task CreateCacheAsync(HttpContext context, FakeResources resources)
    {
        var call = context.Features.Get<FakeCall>()!;
        var body = Encoding.UTF8.GetString(call.Body);
        if (resources.ForeignIn(body, Key(context)) is { } foreign)
        {
            await DeniedAsync(context, foreign);
            return;
        }
        var json = call.TryGetJson(out var root) && root.ValueKind == JsonValueKind.Object;
        var model = json && root.TryGetProperty("model", out var m) ? m.GetString() : "models/gemini-2.0-flash";
        var displayName = json && root.TryGetProperty("displayName", out var d) ? d.GetString() : null;
        var cache = resources.Add(new FakeResource("cachedContents/" + Guid.NewGuid().ToString("N")[..12], Key(context), "cache", null, model, null)
        {
            DisplayName = displayName,
        });
        cache.ExpireTime = (json ? Expiry(root) : null) ?? cache.Created.AddHours(1); // Google's default TTL
        await WriteCacheAsync(context, cache);
    }

    /// <summary>A cache's <c>ttl</c> (a Duration such as <c>"300s"</c>) or <c>expireTime</c>, the only fields an update may change.</summary>
    private static DateTimeOffset? Expiry(JsonElement root)
    {
        if (root.TryGetProperty("ttl", out var ttl) && ttl.GetString() is { Length: > 1 } text && text.EndsWith('s')
            && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return DateTimeOffset.UtcNow.AddSeconds(seconds);
        }
        return root.TryGetProperty("expireTime", out var at) && DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, out var time)
            ? time
            : null;
    }

    private static async Task UpdateCacheAsync(HttpContext context, FakeResources resources, string name)
    {
        if (await OwnedAsync(context, resources, name) is not { } cache)
        {
            return;
        }
        var call = context.Features.Get<FakeCall>()!;
        if (!call.TryGetJson(out var root) || root.ValueKind != JsonValueKind.Object || Expiry(root) is not { } expiry)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("* UpdateCachedContentRequest: ttl or expire_time must be set\n"));
            return;
        }
        cache.ExpireTime = expiry;
        await WriteCacheAsync(context, cache);
    }

    private static async Task GetCacheAsync(HttpContext context, FakeResources resources, string name)
    {
        if (await OwnedAsync(context, resources, name) is { } cache)
        {
            await WriteCacheAsync(context, cache);
        }
    }

    private static Task WriteCacheAsync(HttpContext context, FakeResource cache) =>
        ResponseWriter.WriteJsonAsync(context, 200, JsonBytes.Write(json => WriteCache(json, cache)));

    private static void WriteCache(Utf8JsonWriter json, FakeResource cache)
    {
        json.WriteStartObject();
        json.WriteString("name", cache.Name);
        if (cache.DisplayName is { } displayName)
        {
            json.WriteString("displayName", displayName);
        }
        json.WriteString("model", cache.MimeType);
        json.WriteString("createTime", cache.Created.ToString("O", CultureInfo.InvariantCulture));
        json.WriteString("expireTime", (cache.ExpireTime ?? cache.Created.AddHours(1)).ToString("O", CultureInfo.InvariantCulture));
        json.WriteStartObject("usageMetadata");
        json.WriteNumber("totalTokenCount", 4096);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>A batch is running on its first get and succeeded from the second (unless cancelled): inline responses, or a results file for file input.</summary>
    private static async Task GetBatchAsync(HttpContext context, FakeResources resources, string name)
    {
        if (await OwnedAsync(context, resources, name) is not { } batch)
        {
            return;
        }
        var done = Interlocked.Increment(ref batch.Polls) >= 2 || batch.Cancelled;
        if (done && !batch.Cancelled && batch.InputFile is not null && batch.Output is null)
        {
            var results = resources.Add("files/" + Guid.NewGuid().ToString("N")[..12], batch.Owner, "file",
                Encoding.UTF8.GetBytes("""{"key":"1","response":{"candidates":[{"content":{"parts":[{"text":"ok"}]}}]}}""" + "\n"), "application/jsonl");
            batch.Output = results.Name;
        }
        await ResponseWriter.WriteJsonAsync(context, 200, JsonBytes.Write(json => WriteBatch(json, batch, done)));
    }

    /// <summary>Whether a batch has finished, without counting a poll (a list shows it as it stands).</summary>
    private static bool IsDone(FakeResource batch) => batch.Cancelled || Volatile.Read(ref batch.Polls) >= 2;

    /// <summary><c>:cancel</c> stops a batch that has not finished (<c>{}</c>); a finished one is 400 FAILED_PRECONDITION.</summary>
    private static async Task CancelBatchAsync(HttpContext context, FakeResources resources, string name)
    {
        if (await OwnedAsync(context, resources, name) is not { } batch)
        {
            return;
        }
        if (IsDone(batch) && !batch.Cancelled)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.FailedPrecondition($"Batch {name} has already finished."));
            return;
        }
        batch.Cancelled = true;
        await ResponseWriter.WriteJsonAsync(context, 200, "{}"u8.ToArray());
    }

    /// <summary>A batch operation as Google's get and list show it: state in <c>metadata</c>, results in <c>metadata.output</c> once done.</summary>
    private static void WriteBatch(Utf8JsonWriter json, FakeResource batch, bool done)
    {
        var type = batch.BatchType ?? "GenerateContentBatch";
        json.WriteStartObject();
        json.WriteString("name", batch.Name);
        json.WriteStartObject("metadata");
        json.WriteString("@type", $"type.googleapis.com/google.ai.generativelanguage.v1main.{type}");
        json.WriteString("model", batch.MimeType);
        if (batch.DisplayName is { } displayName)
        {
            json.WriteString("displayName", displayName);
        }
        json.WriteString("state", batch.Cancelled ? "BATCH_STATE_CANCELLED" : done ? "BATCH_STATE_SUCCEEDED" : "BATCH_STATE_RUNNING");
        json.WriteString("createTime", batch.Created.ToString("O", CultureInfo.InvariantCulture));
        if (done && !batch.Cancelled)
        {
            json.WriteStartObject("output");
            if (batch.Output is { } file)
            {
                json.WriteString("responsesFile", file);
            }
            else
            {
                json.WriteStartObject("inlinedResponses");
                json.WriteStartArray("inlinedResponses");
                if (type == "EmbedContentBatch")
                {
                    WriteEmbeddings(json, batch);
                }
                else
                {
                    WriteGeneratedOk(json);
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteBoolean("done", done);
        json.WriteEndObject();
    }

    private static void WriteGeneratedOk(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteStartObject("response");
        json.WriteStartArray("candidates");
        json.WriteStartObject();
        json.WriteStartObject("content");
        json.WriteStartArray("parts");
        json.WriteStartObject();
        json.WriteString("text", "ok");
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteString("role", "model");
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>An embedding batch's inline results: one <c>{"response":{"embedding":{"values"}}}</c> per inline request, in order.</summary>
    private static void WriteEmbeddings(Utf8JsonWriter json, FakeResource batch)
    {
        using var request = JsonDocument.Parse(batch.Content ?? "{}"u8.ToArray());
        var root = request.RootElement;
        if (!root.TryGetProperty("batch", out var body) || !body.TryGetProperty("inputConfig", out var input)
            || !input.TryGetProperty("requests", out var wrapper) || !wrapper.TryGetProperty("requests", out var requests))
        {
            return;
        }
        foreach (var item in requests.EnumerateArray())
        {
            var embed = item.TryGetProperty("request", out var inner) ? inner : item;
            json.WriteStartObject();
            json.WriteStartObject("response");
            json.WriteStartObject("embedding");
            json.WriteStartArray("values");
            foreach (var value in FakeEmbeddings.For(NativeEndpoints.ContentText(embed), ModelCatalog.EmbeddingDimensions(batch.MimeType)))
            {
                json.WriteNumberValue(value);
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }
    }

    /// <summary>A video operation: not done on its first get, done from the second, with a generated file of its key to download.</summary>
    private static async Task GetOperationAsync(HttpContext context, FakeResources resources, string name)
    {
        if (await OwnedAsync(context, resources, name) is not { } operation)
        {
            return;
        }
        var done = Interlocked.Increment(ref operation.Polls) >= 2;
        if (done && operation.Output is null)
        {
            operation.Output = resources.Add("files/" + Guid.NewGuid().ToString("N")[..12], operation.Owner, "file",
                Encoding.UTF8.GetBytes("fake-mp4-bytes"), "video/mp4").Name;
        }
        await ResponseWriter.WriteJsonAsync(context, 200, JsonBytes.Write(json =>
        {
            json.WriteStartObject();
            json.WriteString("name", operation.Name);
            json.WriteBoolean("done", done);
            if (done)
            {
                json.WriteStartObject("response");
                json.WriteString("@type", "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse");
                json.WriteStartObject("generateVideoResponse");
                json.WriteStartArray("generatedSamples");
                json.WriteStartObject();
                json.WriteStartObject("video");
                json.WriteString("uri", $"{GoogleBase}/v1beta/{operation.Output}:download?alt=media");
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }));
    }
}
