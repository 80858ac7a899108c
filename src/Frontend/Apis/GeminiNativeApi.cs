using System.Text;
using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Resources;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// Google's own API shape under <c>{API_PREFIX}/v1beta</c>, <c>/v1</c> and <c>/v1alpha</c>: every method on a model,
/// forwarded to the same path upstream; model listing and lookup under <c>/v1beta</c> and <c>/v1alpha</c>
/// (<c>GET /v1/models</c> is the OpenAI-compatible list, which the OpenAI SDKs depend on).
/// </summary>
public static class GeminiNativeApi
{
    /// <summary>
    /// The native API's versions: <c>v1beta</c> (the SDKs' default), <c>v1</c>, and <c>v1alpha</c>, which Google's
    /// examples select with <c>httpOptions.apiVersion</c> for preview features.
    /// </summary>
    internal static readonly string[] Versions = ["v1beta", "v1", "v1alpha"];

    /// <summary>The methods whose requests get the configured safety settings.</summary>
    private static readonly HashSet<string> GenerateMethods = new(StringComparer.Ordinal) { "generateContent", "streamGenerateContent" };

    /// <summary>The methods whose answer is a new resource (a batch, a long-running operation), bound to the key that made it.</summary>
    private static readonly HashSet<string> CreateMethods = new(StringComparer.Ordinal)
    {
        "batchGenerateContent", "asyncBatchEmbedContent", "predictLongRunning",
    };

    /// <summary>The pseudo-model that model listing rotates under: it consumes no generation quota.</summary>
    internal const string ListModels = "models.list";

    public static IEndpointRouteBuilder MapGeminiNativeApi(this IEndpointRouteBuilder app)
    {
        var gateway = app.ServiceProvider.GetRequiredService<IOptions<FrontendOptions>>().Value;
        var safety = gateway.SafetyThresholds; // built once: the HARM_CATEGORY_* settings are read at start only
        var forwarder = app.ServiceProvider.GetRequiredService<UpstreamForwarder>(); // a singleton: no per-request scope to find it
        var affinity = app.ServiceProvider.GetRequiredService<ResourceAffinity>();
        foreach (var version in Versions)
        {
            var api = app.MapGroup($"{gateway.NormalizedPrefix}/{version}/models")
                .RequireClientToken(app.ServiceProvider, ApiSurface.GeminiNative)
                .WithTags("Gemini native");
            api.MapPost("/{**target:minlength(1)}", (string target, HttpContext context) => PostAsync(version, target, context, forwarder, gateway, safety, affinity));
            if (version != "v1")
            {
                api.MapGet("/", (HttpContext context) => ListAsync(version, context, forwarder));
                api.MapGet("/{**model:minlength(1)}", (string model, HttpContext context) => GetAsync(version, model, context, forwarder));
            }
        }
        return app;
    }

    /// <summary><c>POST /{version}/models/{model}:{method}</c>, for any method upstream has.</summary>
    public static async Task PostAsync(string version, string target, HttpContext context, UpstreamForwarder forwarder, FrontendOptions gateway,
        IReadOnlyDictionary<string, string> safety, ResourceAffinity affinity)
    {
        var colon = target.LastIndexOf(':');
        if (colon < 0)
        {
            await ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status404NotFound,
                $"No method in '{PrintableText.Of(target, 64)}': call POST /{version}/models/{{model}}:{{method}}, e.g. :generateContent.");
            return;
        }
        var method = target[(colon + 1)..];
        if (!MethodName.IsValid(method))
        {
            await ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                $"Invalid method name '{PrintableText.Of(method, 64)}': use letters and digits, at most 64 characters.");
            return;
        }
        if (!ModelName.TryNormalize(target[..colon], out var model))
        {
            await WriteInvalidModelAsync(context);
            return;
        }

        using var body = await RequestBody.ReadOrRejectAsync(context, ApiSurface.GeminiNative, gateway.MaxRequestBodyBytes);
        if (body is not null)
        {
            var payload = body.Memory;
            var rewritten = false;
            if (safety.Count > 0 && GenerateMethods.Contains(method))
            {
                try
                {
                    // a compressed body is decoded to merge into, and the merged JSON goes upstream decoded
                    payload = SafetySettingsMerger.Merge(RequestBodyDecoder.Decoded(context.Request, payload, gateway.MaxRequestBodyBytes).Span, safety);
                    rewritten = RequestBodyDecoder.IsEncoded(context.Request);
                }
                catch (InvalidRequestBodyException ex)
                {
                    await ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message);
                    return;
                }
            }
            // a body naming no resource costs one byte scan here, and no grain call
            if (await ResourceRoutesApi.ResolveBodyAsync(context, ApiSurface.GeminiNative, affinity, body.Memory.Span) is not { } owner)
            {
                return;
            }
            var path = $"{version}/models/{model}:{method}{ForwardedQuery(context.Request)}";
            var call = new UpstreamCall(ApiSurface.GeminiNative, HttpMethod.Post, path, model, payload, method == "streamGenerateContent", rewritten)
            {
                Resources = owner,
                RecordAnswer = CreateMethods.Contains(method) ? AnswerRecord.ResourceNames : AnswerRecord.None,
                ModelIn = ModelPlace.Path,
            };
            await forwarder.ForwardAsync(context, call);
        }
    }

    /// <summary><c>GET /{version}/models</c>, with <c>pageSize</c> and <c>pageToken</c> passed through.</summary>
    public static Task ListAsync(string version, HttpContext context, UpstreamForwarder forwarder) =>
        forwarder.ForwardAsync(context, new UpstreamCall(
            ApiSurface.GeminiNative, HttpMethod.Get, $"{version}/models{ForwardedQuery(context.Request)}", ListModels, default, false));

    /// <summary><c>GET /{version}/models/{model}</c>.</summary>
    public static async Task GetAsync(string version, string model, HttpContext context, UpstreamForwarder forwarder)
    {
        if (!ModelName.TryNormalize(model, out var name))
        {
            await WriteInvalidModelAsync(context);
            return;
        }
        await forwarder.ForwardAsync(context, new UpstreamCall(
            ApiSurface.GeminiNative, HttpMethod.Get, $"{version}/models/{name}{ForwardedQuery(context.Request)}", name, default, false));
    }

    /// <summary>
    /// The client's query string, re-encoded parameter by parameter, without <c>key</c>: a client token never goes upstream.
    /// </summary>
    internal static string ForwardedQuery(HttpRequest request)
    {
        if (!request.QueryString.HasValue || request.Query.Count == 0)
        {
            return "";
        }
        var query = new StringBuilder();
        foreach (var (name, values) in request.Query)
        {
            if (string.Equals(name, "key", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            foreach (var value in values)
            {
                query.Append(query.Length == 0 ? '?' : '&')
                    .Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
            }
        }
        return query.ToString();
    }

    private static Task WriteInvalidModelAsync(HttpContext context) =>
        ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
            $"Invalid model name: {ModelName.Rules}");
}
