using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Resources;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// The OpenAI-compatible surface, on <c>{API_PREFIX}/v1</c> and on Google's own <c>{API_PREFIX}/v1beta/openai</c>:
/// every path that is not a native route goes to <c>{GEMINI_BASE_URL}/v1beta/openai/...</c> with its method and query,
/// through the same engine as the native surface.
/// </summary>
public static class OpenAiCompatibleApi
{
    /// <summary>Operations whose requests must name a model: a body without one is the client's mistake, caught here.</summary>
    private static readonly HashSet<string> ModelRequired = new(StringComparer.Ordinal)
    {
        "chat/completions", "embeddings", "images/generations", "images/edits", "audio/speech", "audio/transcriptions", "audio/translations",
    };

    public static IEndpointRouteBuilder MapOpenAiCompatibleApi(this IEndpointRouteBuilder app)
    {
        var gateway = app.ServiceProvider.GetRequiredService<IOptions<FrontendOptions>>().Value;
        var forwarder = app.ServiceProvider.GetRequiredService<UpstreamForwarder>(); // a singleton: no per-request scope to find it
        var affinity = app.ServiceProvider.GetRequiredService<ResourceAffinity>();
        foreach (var root in new[] { "/v1", "/v1beta/openai" })
        {
            var api = app.MapGroup(gateway.NormalizedPrefix + root)
                .RequireClientToken(app.ServiceProvider, ApiSurface.OpenAi)
                .WithTags("OpenAI compatible");
            api.MapGet("/models", ListAsync);
            api.MapGet("/models/{**model:minlength(1)}", GetAsync);
            api.Map("/{**operation:minlength(1)}", (string operation, HttpContext context) => ForwardAsync(operation, context, forwarder, gateway, affinity));
        }
        return app;
    }

    /// <summary>Any other operation, any method: the model comes from the body (JSON or form), else from the path.</summary>
    private static async Task ForwardAsync(string operation, HttpContext context, UpstreamForwarder forwarder, FrontendOptions options,
        ResourceAffinity affinity)
    {
        if (!UpstreamPath.IsSafe(operation))
        {
            await ApiSurface.OpenAi.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                "Invalid path: use segments of letters, digits, '.', '-', '_' and ':'.");
            return;
        }
        var method = HttpMethod.Parse(context.Request.Method);
        RequestBody? body = null;
        if (method != HttpMethod.Get && method != HttpMethod.Head)
        {
            body = await RequestBody.ReadOrRejectAsync(context, ApiSurface.OpenAi, options.MaxRequestBodyBytes);
            if (body is null)
            {
                return; // rejected (too large, too slow, malformed), and the client was told why
            }
        }
        using var read = body;
        var payload = body?.Memory ?? ReadOnlyMemory<byte>.Empty;
        RequestFactsReader.RequestFacts facts;
        try
        {
            facts = await ReadFactsAsync(context.Request, payload, options.MaxRequestBodyBytes, context.RequestAborted);
        }
        catch (InvalidRequestBodyException ex)
        {
            await ApiSurface.OpenAi.WriteErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message);
            return;
        }
        string model;
        if (facts.Model is null && !ModelRequired.Contains(operation))
        {
            model = "openai/" + operation; // nothing names a model: the operation counts under its own bucket
        }
        else if (!ModelName.TryNormalize(facts.Model, out model))
        {
            await ApiSurface.OpenAi.WriteErrorAsync(context, StatusCodes.Status400BadRequest, facts.Model is not null
                ? "Invalid 'model': use letters, digits, '.', '-' and '_' (optionally prefixed by 'models/'), at most 256 characters."
                : IsReadable(context.Request.ContentType)
                    ? "The request body needs a 'model' string, e.g. \"gemini-2.0-flash\"."
                    : $"The request body must be JSON (Content-Type: application/json) or a multipart form, not '{PrintableText.Of(context.Request.ContentType ?? "", 100)}'.");
            return;
        }
        // a chat part may point at an uploaded file: the file's key answers (one byte scan when the body names none)
        if (await ResourceRoutesApi.ResolveBodyAsync(context, ApiSurface.OpenAi, affinity, payload.Span) is not { } owner)
        {
            return;
        }
        var path = $"v1beta/openai/{operation}{GeminiNativeApi.ForwardedQuery(context.Request)}";
        // only a JSON body's model can be changed for a fallback (a form's is left as it came)
        var modelIn = facts.Model is not null && context.Request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) != true
            ? ModelPlace.Body
            : ModelPlace.None;
        await forwarder.ForwardAsync(context, new UpstreamCall(ApiSurface.OpenAi, method, path, model, payload, facts.Stream)
        {
            Resources = owner,
            ModelIn = modelIn,
        });
    }

    /// <summary>
    /// The model and stream flag: from a JSON body with the forward-only reader, from a form's <c>model</c> field, or
    /// none for a body of another type (or none). A compressed body is read from a decoded copy and goes upstream as it came.
    /// </summary>
    private static async Task<RequestFactsReader.RequestFacts> ReadFactsAsync(HttpRequest request, ReadOnlyMemory<byte> body, long limit,
        CancellationToken cancellationToken)
    {
        if (body.IsEmpty)
        {
            return default;
        }
        var contentType = request.ContentType ?? "";
        if (contentType.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            var model = await MultipartModelReader.ReadAsync(contentType, RequestBodyDecoder.Decoded(request, body, limit), cancellationToken);
            return new(model, false);
        }
        if (IsReadable(contentType))
        {
            return RequestFactsReader.Read(RequestBodyDecoder.Decoded(request, body, limit).Span);
        }
        return default;
    }

    /// <summary>A body type the gateway reads the model from: JSON (or no type, as JSON), or a multipart form.</summary>
    private static bool IsReadable(string? contentType) =>
        string.IsNullOrEmpty(contentType) || contentType.Contains("json", StringComparison.OrdinalIgnoreCase)
        || contentType.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase);

    private static Task ListAsync(HttpContext context, UpstreamForwarder forwarder) =>
        forwarder.ForwardAsync(context, new UpstreamCall(
            ApiSurface.OpenAi, HttpMethod.Get, "v1beta/openai/models", GeminiNativeApi.ListModels, default, false));

    private static async Task GetAsync(string model, HttpContext context, UpstreamForwarder forwarder)
    {
        if (model.Contains(':'))
        {
            // a native model method under /v1 (models/{model}:{method}) called with GET: the native surface answers
            await ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed,
                $"{context.Request.Method} is not allowed on {PrintableText.Of(context.Request.Path.Value, 200)}: model methods take POST.");
            return;
        }
        // SDKs escape the slash of a listed id ("models/gemini-2.0-flash") as %2F, which routing leaves encoded
        if (!ModelName.TryNormalize(Uri.UnescapeDataString(model), out var name))
        {
            await ApiSurface.OpenAi.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                $"Invalid model name: {ModelName.Rules}");
            return;
        }
        await forwarder.ForwardAsync(context, new UpstreamCall(
            ApiSurface.OpenAi, HttpMethod.Get, $"v1beta/openai/models/{name}", name, default, false));
    }
}
