using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// The OpenAI-compatible surface, on <c>{API_PREFIX}/v1</c> and on Google's own <c>{API_PREFIX}/v1beta/openai</c>,
/// forwarded to <c>{GEMINI_BASE_URL}/v1beta/openai/...</c> by the same engine as the native surface.
/// </summary>
public static class OpenAiCompatibleApi
{
    public static IEndpointRouteBuilder MapOpenAiCompatibleApi(this IEndpointRouteBuilder app)
    {
        var gateway = app.ServiceProvider.GetRequiredService<IOptions<FrontendOptions>>().Value;
        var forwarder = app.ServiceProvider.GetRequiredService<UpstreamForwarder>(); // a singleton: no per-request scope to find it
        foreach (var root in new[] { "/v1", "/v1beta/openai" })
        {
            var api = app.MapGroup(gateway.NormalizedPrefix + root)
                .RequireClientToken(app.ServiceProvider, ApiSurface.OpenAi)
                .WithTags("OpenAI compatible");
            api.MapPost("/chat/completions", (HttpContext context) => PostAsync(context, forwarder, gateway, "chat/completions"));
            api.MapPost("/embeddings", (HttpContext context) => PostAsync(context, forwarder, gateway, "embeddings"));
            api.MapGet("/models", ListAsync);
            api.MapGet("/models/{**model}", GetAsync);
        }
        return app;
    }

    private static async Task PostAsync(HttpContext context, UpstreamForwarder forwarder, FrontendOptions options, string operation)
    {
        using var body = await RequestBody.ReadOrRejectAsync(context, ApiSurface.OpenAi, options.MaxRequestBodyBytes);
        if (body is not null)
        {
            OpenAiRequestReader.OpenAiRequestFacts facts;
            try
            {
                facts = OpenAiRequestReader.Read(body.Memory.Span);
            }
            catch (InvalidRequestBodyException ex)
            {
                await ApiSurface.OpenAi.WriteErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message);
                return;
            }
            if (!ModelName.TryNormalize(facts.Model, out var model))
            {
                await ApiSurface.OpenAi.WriteErrorAsync(context, StatusCodes.Status400BadRequest, facts.Model is null
                    ? "The request body needs a 'model' string, e.g. \"gemini-2.0-flash\"."
                    : "Invalid 'model': use letters, digits, '.', '-' and '_' (optionally prefixed by 'models/'), at most 256 characters.");
                return;
            }
            var call = new UpstreamCall(ApiSurface.OpenAi, HttpMethod.Post, $"v1beta/openai/{operation}", model, body.Memory, facts.Stream);
            await forwarder.ForwardAsync(context, call);
        }
    }

    private static Task ListAsync(HttpContext context, UpstreamForwarder forwarder) =>
        forwarder.ForwardAsync(context, new UpstreamCall(
            ApiSurface.OpenAi, HttpMethod.Get, "v1beta/openai/models", GeminiNativeApi.ListModels, default, false));

    private static async Task GetAsync(string model, HttpContext context, UpstreamForwarder forwarder)
    {
        // SDKs escape the slash of a listed id ("models/gemini-2.0-flash") as %2F, which routing leaves encoded
        if (!ModelName.TryNormalize(Uri.UnescapeDataString(model), out var name))
        {
            await ApiSurface.OpenAi.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                "Invalid model name: use letters, digits, '.', '-' and '_' (optionally prefixed by 'models/'), at most 256 characters.");
            return;
        }
        await forwarder.ForwardAsync(context, new UpstreamCall(
            ApiSurface.OpenAi, HttpMethod.Get, $"v1beta/openai/models/{name}", name, default, false));
    }
}
