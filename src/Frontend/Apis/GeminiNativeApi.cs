using System.Text;
using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Apis;

/// <summary>Google's own API shape under <c>{API_PREFIX}/v1beta</c>, forwarded to the same paths upstream.</summary>
public static class GeminiNativeApi
{
    private static readonly HashSet<string> PostActions = new(StringComparer.Ordinal)
    {
        "generateContent", "streamGenerateContent", "embedContent", "batchEmbedContents", "countTokens",
    };

    /// <summary>The pseudo-model that model listing rotates under: it consumes no generation quota.</summary>
    internal const string ListModels = "models.list";

    public static IEndpointRouteBuilder MapGeminiNativeApi(this IEndpointRouteBuilder app)
    {
        var gateway = app.ServiceProvider.GetRequiredService<IOptions<FrontendOptions>>().Value;
        var safety = gateway.SafetyThresholds; // built once: the HARM_CATEGORY_* settings are read at start only
        var api = app.MapGroup(gateway.NormalizedPrefix + "/v1beta/models")
            .RequireClientToken(app.ServiceProvider, ApiSurface.GeminiNative)
            .WithTags("Gemini native");
        var forwarder = app.ServiceProvider.GetRequiredService<UpstreamForwarder>(); // a singleton: no per-request scope to find it
        api.MapPost("/{**target}", (string target, HttpContext context) => PostAsync(target, context, forwarder, gateway, safety));
        api.MapGet("/", ListAsync);
        api.MapGet("/{**model}", GetAsync);
        return app;
    }

    /// <summary><c>POST /v1beta/models/{model}:{action}</c>.</summary>
    public static async Task PostAsync(string target, HttpContext context, UpstreamForwarder forwarder, FrontendOptions gateway,
        IReadOnlyDictionary<string, string> safety)
    {
        var colon = target.LastIndexOf(':');
        var action = colon < 0 ? "" : target[(colon + 1)..];
        if (colon < 0 || !PostActions.Contains(action))
        {
            await ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status404NotFound,
                $"Unknown method '{Sanitize(action)}': use one of {string.Join(", ", PostActions)}.");
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
            if (safety.Count > 0 && action is "generateContent" or "streamGenerateContent")
            {
                try
                {
                    payload = SafetySettingsMerger.Merge(payload.Span, safety);
                }
                catch (InvalidRequestBodyException ex)
                {
                    await ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message);
                    return;
                }
            }
            var path = $"v1beta/models/{model}:{action}{ForwardedQuery(context.Request)}";
            var call = new UpstreamCall(ApiSurface.GeminiNative, HttpMethod.Post, path, model, payload, action == "streamGenerateContent");
            await forwarder.ForwardAsync(context, call);
        }
    }

    /// <summary><c>GET /v1beta/models</c>, with <c>pageSize</c> and <c>pageToken</c> passed through.</summary>
    public static Task ListAsync(HttpContext context, UpstreamForwarder forwarder) =>
        forwarder.ForwardAsync(context, new UpstreamCall(
            ApiSurface.GeminiNative, HttpMethod.Get, $"v1beta/models{ForwardedQuery(context.Request)}", ListModels, default, false));

    /// <summary><c>GET /v1beta/models/{model}</c>.</summary>
    public static async Task GetAsync(string model, HttpContext context, UpstreamForwarder forwarder)
    {
        if (!ModelName.TryNormalize(model, out var name))
        {
            await WriteInvalidModelAsync(context);
            return;
        }
        await forwarder.ForwardAsync(context, new UpstreamCall(
            ApiSurface.GeminiNative, HttpMethod.Get, $"v1beta/models/{name}{ForwardedQuery(context.Request)}", name, default, false));
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
            "Invalid model name: use letters, digits, '.', '-' and '_' (optionally prefixed by 'models/'), at most 256 characters.");

    private static string Sanitize(string text) =>
        new(text.Take(64).Where(c => !char.IsControl(c)).ToArray());
}
