using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Resources;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// Routes to resources that belong to the key that made them (files, cached contents, batches, operations, File Search
/// stores, custom voices, uploads, downloads). A request about one resource goes to its owning key (<see cref="ResourceAffinity"/>); a
/// create, an upload and a resource's metadata are read for the names they carry, which are bound to the key that
/// answered. Lists of the native collections merge every key's (<see cref="MergedResourceList"/>).
/// </summary>
public static class ResourceRoutesApi
{
    public static IEndpointRouteBuilder MapResourceRoutesApi(this IEndpointRouteBuilder app)
    {
        var gateway = app.ServiceProvider.GetRequiredService<IOptions<FrontendOptions>>().Value;
        var forwarder = app.ServiceProvider.GetRequiredService<UpstreamForwarder>();
        var affinity = app.ServiceProvider.GetRequiredService<ResourceAffinity>();
        var lists = app.ServiceProvider.GetRequiredService<MergedResourceList>();
        var prefix = gateway.NormalizedPrefix;
        var native = app.MapGroup(prefix).RequireClientToken(app.ServiceProvider, ApiSurface.GeminiNative).WithTags("Resources");
        foreach (var version in GeminiNativeApi.Versions)
        {
            foreach (var collection in ResourceCounts.Collections)
            {
                // a list merges every key's; a create goes to one key
                native.Map($"/{version}/{collection}", (HttpContext context) =>
                    IsOpenAiCallOnNativeRoot(context.Request, version, collection, null) ? AnswerOpenAiRootAsync(context, gateway)
                    : HttpMethods.IsGet(context.Request.Method) ? lists.ListAsync(context, version, collection)
                    : ResourceAsync(context, ApiSurface.GeminiNative, $"{version}/{collection}", collection, forwarder, affinity, gateway));
                native.Map($"/{version}/{collection}/{{**rest:minlength(1)}}", (string rest, HttpContext context) =>
                    IsOpenAiCallOnNativeRoot(context.Request, version, collection, rest) ? AnswerOpenAiRootAsync(context, gateway)
                    : ResourceAsync(context, ApiSurface.GeminiNative, $"{version}/{collection}/{rest}", $"{collection}/{rest}", forwarder, affinity, gateway));
            }
            native.Map($"/{version}/models/{{model}}/operations/{{**rest:minlength(1)}}", (string model, string rest, HttpContext context) =>
                ResourceAsync(context, ApiSurface.GeminiNative, $"{version}/models/{model}/operations/{rest}", $"models/{model}/operations/{rest}",
                    forwarder, affinity, gateway));
        }
        native.Map("/upload/{**rest:minlength(1)}", (string rest, HttpContext context) => UploadAsync(context, rest, forwarder, affinity, gateway));
        native.Map("/download/{**rest:minlength(1)}", (string rest, HttpContext context) =>
            ResourceAsync(context, ApiSurface.GeminiNative, $"download/{rest}", rest[(rest.IndexOf('/') + 1)..], forwarder, affinity, gateway));

        // OpenAI's files and batches are key-bound the same way
        var openAi = app.MapGroup(prefix + "/v1beta/openai").RequireClientToken(app.ServiceProvider, ApiSurface.OpenAi).WithTags("Resources");
        foreach (var collection in new[] { "files", "batches" })
        {
            openAi.Map($"/{collection}", (HttpContext context) => OpenAiCollectionAsync(context, collection, forwarder, affinity, lists, gateway));
            openAi.Map($"/{collection}/{{**rest:minlength(1)}}", (string rest, HttpContext context) =>
                ResourceAsync(context, ApiSurface.OpenAi, $"v1beta/openai/{collection}/{rest}", ResourceNames.OpenAiPath(collection, rest),
                    forwarder, affinity, gateway));
        }
        return app;
    }

    /// <summary>
    /// A call of the OpenAI SDKs' Files or Batch API sent to the gateway's <c>/v1</c> root, where <c>files</c> and
    /// <c>batches</c> are the native API's collections. Only what no native call looks like: a multipart upload to the
    /// collection, a create of a batch (native batches are made by a model's <c>:batchGenerateContent</c>), an id that
    /// carries its collection escaped (<c>files%2Fabc</c>), <c>/content</c> and <c>/cancel</c> (native: <c>:download</c>,
    /// <c>:cancel</c>).
    /// </summary>
    private static bool IsOpenAiCallOnNativeRoot(HttpRequest request, string version, string collection, string? rest) =>
        version == "v1" && collection is "files" or "batches" && (rest is null
            ? HttpMethods.IsPost(request.Method)
                && (collection == "batches" || request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true)
            : rest.StartsWith(collection + "%2F", StringComparison.OrdinalIgnoreCase)
                || rest.EndsWith("/content", StringComparison.Ordinal) || rest.EndsWith("/cancel", StringComparison.Ordinal));

    /// <summary>Tells an OpenAI client on the <c>/v1</c> root where the Files and Batch API are, rather than pass it to a native method it cannot mean.</summary>
    private static Task AnswerOpenAiRootAsync(HttpContext context, FrontendOptions gateway) =>
        ApiSurface.OpenAi.WriteErrorAsync(context, StatusCodes.Status404NotFound,
            $"Google's OpenAI-compatible Files and Batch API is served under {gateway.NormalizedPrefix}/v1beta/openai/ (set the OpenAI client's base URL to it); " +
            $"under {gateway.NormalizedPrefix}/v1/, files and batches are the native Gemini API's.");

    /// <summary>
    /// <c>/v1beta/openai/files</c> or <c>batches</c> itself: a list merges every key's, an uploaded file (a batch's
    /// input) streams through like a native upload, a batch's create goes to its input file's key.
    /// </summary>
    private static Task OpenAiCollectionAsync(HttpContext context, string collection, UpstreamForwarder forwarder, ResourceAffinity affinity,
        MergedResourceList lists, FrontendOptions gateway)
    {
        if (HttpMethods.IsGet(context.Request.Method))
        {
            return lists.ListOpenAiAsync(context, collection);
        }
        if (collection == "files" && HttpMethods.IsPost(context.Request.Method))
        {
            return StreamUploadAsync(context, ApiSurface.OpenAi, HttpMethod.Post, "v1beta/openai/files" + GeminiNativeApi.ForwardedQuery(context.Request),
                collection, [], forwarder, affinity, gateway);
        }
        return ResourceAsync(context, ApiSurface.OpenAi, $"v1beta/openai/{collection}", collection, forwarder, affinity, gateway);
    }

    /// <summary>
    /// One request about a collection or a resource: to the resource's owner (and the owner of any resource its body
    /// names), with the answer read for the names it carries.
    /// </summary>
    /// <param name="upstreamPath">The path upstream, without the query.</param>
    /// <param name="resourcePath">The path after the API version, e.g. <c>files/abc:download</c>.</param>
    private static async Task ResourceAsync(HttpContext context, ApiSurface surface, string upstreamPath, string resourcePath,
        UpstreamForwarder forwarder, ResourceAffinity affinity, FrontendOptions gateway)
    {
        // an escaped slash (an OpenAI id in its path) is checked as the slash it stands for
        if (!UpstreamPath.IsSafe(upstreamPath.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase)))
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Invalid path: use segments of letters, digits, '.', '-', '_' and ':'.");
            return;
        }
        var method = HttpMethod.Parse(context.Request.Method);
        var subject = ResourceNames.FromPath(resourcePath);
        // a file's bytes stream through and name nothing to record: Google's :download and alt=media, OpenAI's /content
        var download = resourcePath.EndsWith(":download", StringComparison.Ordinal) || context.Request.Query["alt"] == "media"
            || surface == ApiSurface.OpenAi && resourcePath.EndsWith("/content", StringComparison.Ordinal);
        using var body = await RequestBody.ReadOrRejectAsync(context, surface, gateway.MaxRequestBodyBytes);
        if (body is null)
        {
            return;
        }
        var names = new List<string>();
        if (subject is not null)
        {
            names.Add(subject);
        }
        foreach (var name in ResourceNames.InBody(body.Memory.Span))
        {
            if (!names.Contains(name))
            {
                names.Add(name);
            }
        }
        if (await ResolveOrRejectAsync(context, surface, affinity, names) is not { } owner)
        {
            return;
        }
        // a deletion is of the resource itself (files/abc), not of something under it (a store's document)
        var deletes = method == HttpMethod.Delete && subject is not null && resourcePath.TrimEnd('/') == subject ? subject : null;
        var call = new UpstreamCall(surface, method, upstreamPath + GeminiNativeApi.ForwardedQuery(context.Request),
            Bucket(resourcePath), body.Memory, Streaming: download)
        {
            Resources = owner,
            // a list names many resources; each get of one (or a create) records the key that answered
            RecordAnswer = !download && method != HttpMethod.Delete && !(method == HttpMethod.Get && subject is null) ? AnswerRecord.ResourceNames : AnswerRecord.None,
            Deletes = deletes,
        };
        await forwarder.ForwardAsync(context, call);
    }

    /// <summary>
    /// <c>/upload/...</c>: the start of a resumable upload (small metadata; upstream's session URL is rewritten to this
    /// gateway and the session bound to the key), its chunks (streamed to the session's key as they arrive, whichever
    /// frontend they reach), or a multipart upload (streamed, one attempt).
    /// </summary>
    private static async Task UploadAsync(HttpContext context, string rest, UpstreamForwarder forwarder, ResourceAffinity affinity, FrontendOptions gateway)
    {
        var surface = ApiSurface.GeminiNative;
        var upstreamPath = "upload/" + rest;
        if (!UpstreamPath.IsSafe(upstreamPath))
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Invalid path: use segments of letters, digits, '.', '-', '_' and ':'.");
            return;
        }
        var method = HttpMethod.Parse(context.Request.Method);
        var path = upstreamPath + GeminiNativeApi.ForwardedQuery(context.Request);
        var resourcePath = rest[(rest.IndexOf('/') + 1)..]; // after the API version
        var store = ResourceNames.FromPath(resourcePath); // uploadToFileSearchStore: the store's key
        var uploadId = context.Request.Query["upload_id"].ToString();
        var command = context.Request.Headers["X-Goog-Upload-Command"].ToString();
        var protocol = context.Request.Headers["X-Goog-Upload-Protocol"].ToString();
        if (uploadId.Length > 0 || !command.Contains("start", StringComparison.OrdinalIgnoreCase) && !protocol.Equals("resumable", StringComparison.OrdinalIgnoreCase))
        {
            // a chunk, a query or a multipart upload
            List<string> names = [];
            if (uploadId.Length > 0)
            {
                if (uploadId.Length > 512 || uploadId.Any(char.IsControl))
                {
                    await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Invalid upload_id.");
                    return;
                }
                names.Add("uploads/" + uploadId);
            }
            else if (store is not null)
            {
                names.Add(store);
            }
            // the chunk that finalizes ends the session: its record goes with it (the file it made is recorded instead)
            var ends = uploadId.Length > 0 && command.Contains("finalize", StringComparison.OrdinalIgnoreCase) ? names[0] : null;
            await StreamUploadAsync(context, surface, method, path, Bucket(resourcePath), names, forwarder, affinity, gateway, ends);
            return;
        }

        using var body = await RequestBody.ReadOrRejectAsync(context, surface, gateway.MaxRequestBodyBytes);
        if (body is null)
        {
            return;
        }
        List<string> startNames = store is null ? [] : [store];
        if (await ResolveOrRejectAsync(context, surface, affinity, startNames) is not { } startOwner)
        {
            return;
        }
        var publicBase = PublicBase(context.Request, gateway) + gateway.NormalizedPrefix;
        var upstreamBase = gateway.BaseUri.AbsolutePath.TrimEnd('/');
        await forwarder.ForwardAsync(context, new UpstreamCall(surface, method, path, Bucket(resourcePath), body.Memory, Streaming: false)
        {
            Resources = startOwner,
            UploadUrl = pathAndQuery => publicBase + (upstreamBase.Length > 0 && pathAndQuery.StartsWith(upstreamBase, StringComparison.Ordinal)
                ? pathAndQuery[upstreamBase.Length..]
                : pathAndQuery),
        });
    }

    /// <summary>
    /// An upload whose body streams through to one key as it arrives, never held whole (a resumable upload's chunk, a
    /// multipart upload, OpenAI's <c>POST files</c>): one attempt, up to MAX_UPLOAD_MB, its answer read for the names
    /// it carries.
    /// </summary>
    /// <param name="names">The resources the upload belongs to (its session, its File Search store), which choose its key.</param>
    /// <param name="ends">A resource whose record the upload's success ends (the session it finalizes).</param>
    private static async Task StreamUploadAsync(HttpContext context, ApiSurface surface, HttpMethod method, string path, string bucket,
        List<string> names, UpstreamForwarder forwarder, ResourceAffinity affinity, FrontendOptions gateway, string? ends = null)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = gateway.MaxUploadBytes;
        }
        if (context.Request.ContentLength > gateway.MaxUploadBytes)
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge,
                $"The upload is larger than the {gateway.MaxUploadMb} MB this gateway accepts (MAX_UPLOAD_MB).");
            return;
        }
        if (await ResolveOrRejectAsync(context, surface, affinity, names) is not { } owner)
        {
            return;
        }
        await forwarder.ForwardAsync(context, new UpstreamCall(surface, method, path, bucket, default, Streaming: true)
        {
            Resources = owner,
            StreamRequestBody = true,
            RecordAnswer = AnswerRecord.ResourceNames,
            Deletes = ends,
        });
    }

    /// <summary>
    /// The gateway's address as the client sees it: PUBLIC_BASE_URL, else the trusted Forwarded / X-Forwarded-* headers,
    /// else the request's own scheme and host. Clients such as <c>@google/genai</c> replace the scheme, host and port with
    /// their own base URL anyway; the path and query must route here.
    /// </summary>
    internal static string PublicBase(HttpRequest request, FrontendOptions gateway)
    {
        if (!string.IsNullOrWhiteSpace(gateway.PublicBaseUrl))
        {
            return gateway.PublicBaseUrl.TrimEnd('/');
        }
        var scheme = request.Scheme;
        var host = request.Host.Value ?? "localhost";
        if (gateway.TrustForwardedHeaders)
        {
            if (request.Headers["Forwarded"].ToString() is { Length: > 0 } forwarded)
            {
                foreach (var part in forwarded.Split(',')[0].Split(';', StringSplitOptions.TrimEntries))
                {
                    if (part.StartsWith("proto=", StringComparison.OrdinalIgnoreCase))
                    {
                        scheme = part[6..].Trim('"');
                    }
                    else if (part.StartsWith("host=", StringComparison.OrdinalIgnoreCase))
                    {
                        host = part[5..].Trim('"');
                    }
                }
            }
            else
            {
                scheme = request.Headers["X-Forwarded-Proto"].ToString().Split(',')[0].Trim() is { Length: > 0 } proto ? proto : scheme;
                host = request.Headers["X-Forwarded-Host"].ToString().Split(',')[0].Trim() is { Length: > 0 } forwardedHost ? forwardedHost : host;
            }
        }
        if (scheme is not ("http" or "https") || host.Any(c => char.IsControl(c) || c is '/' or '\\' or '@' or ' '))
        {
            scheme = request.Scheme; // a forged header must not send uploads elsewhere
            host = request.Host.Value ?? "localhost";
        }
        return $"{scheme}://{host}";
    }

    /// <summary>The owner of <paramref name="names"/>, or null after answering 400 (too many names) or 503 (pool unreachable).</summary>
    internal static async Task<ResourceOwner?> ResolveOrRejectAsync(HttpContext context, ApiSurface surface, ResourceAffinity affinity, IReadOnlyList<string> names)
    {
        if (names.Count > ResourceNames.MaxNamesPerRequest)
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                $"This request names {names.Count} resources; at most {ResourceNames.MaxNamesPerRequest} are accepted in one request.");
            return null;
        }
        try
        {
            return await affinity.ResolveAsync(names);
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            await ClusterUnreachable.AnswerAsync(context, surface, "The gateway's resource records");
            return null;
        }
    }

    /// <summary>What rotation and cooldowns count a resource request under: its collection (it spends no model's quota).</summary>
    private static string Bucket(string resourcePath)
    {
        var end = resourcePath.IndexOfAny(['/', ':', '?']);
        return end < 0 ? resourcePath : resourcePath[..end];
    }

    /// <summary>Resolves the owner of the resources a generate body names, or answers and returns null.</summary>
    private static readonly Task<ResourceOwner?> NoResources = Task.FromResult<ResourceOwner?>(ResourceOwner.None);

    internal static Task<ResourceOwner?> ResolveBodyAsync(HttpContext context, ApiSurface surface, ResourceAffinity affinity, ReadOnlySpan<byte> body)
    {
        var names = ResourceNames.InBody(body);
        return names.Count == 0 ? NoResources : ResolveOrRejectAsync(context, surface, affinity, names);
    }
}
