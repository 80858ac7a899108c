using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// Routes to resources that belong to the key that made them (files, cached contents, batches, operations, file search
/// stores, uploads, downloads). Rotated like the model routes, a resource made with one key would be asked for with
/// another and not be found; until those routes follow the key that made each resource, they answer a clear 501.
/// </summary>
public static class ResourceRoutesApi
{
    private static readonly string[] Collections = ["files", "cachedContents", "batches", "operations", "fileSearchStores"];

    public static IEndpointRouteBuilder MapResourceRoutesApi(this IEndpointRouteBuilder app)
    {
        var prefix = app.ServiceProvider.GetRequiredService<IOptions<FrontendOptions>>().Value.NormalizedPrefix;
        var native = app.MapGroup(prefix).RequireClientToken(app.ServiceProvider, ApiSurface.GeminiNative).WithTags("Resources (not yet)");
        foreach (var version in new[] { "v1beta", "v1" })
        {
            foreach (var collection in Collections)
            {
                native.Map($"/{version}/{collection}", NativeAsync);
                native.Map($"/{version}/{collection}/{{**rest}}", NativeAsync);
            }
            native.Map($"/{version}/models/{{model}}/operations/{{**rest}}", NativeAsync); // long-running video generations
        }
        native.Map("/upload/{**rest}", NativeAsync);
        native.Map("/download/{**rest}", NativeAsync);

        // OpenAI's files and batches are key-bound the same way
        var openAi = app.MapGroup(prefix + "/v1beta/openai").RequireClientToken(app.ServiceProvider, ApiSurface.OpenAi).WithTags("Resources (not yet)");
        foreach (var collection in new[] { "files", "batches" })
        {
            openAi.Map($"/{collection}", OpenAiAsync);
            openAi.Map($"/{collection}/{{**rest}}", OpenAiAsync);
        }
        return app;
    }

    private const string Message =
        "This gateway does not serve {0} yet: a resource belongs to the upstream key that made it, and routing each one back to its key is not built yet. Call this route on the Gemini API directly for now.";

    private static Task NativeAsync(HttpContext context) =>
        ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status501NotImplemented, string.Format(null, Message, Describe(context)));

    private static Task OpenAiAsync(HttpContext context) =>
        ApiSurface.OpenAi.WriteErrorAsync(context, StatusCodes.Status501NotImplemented, string.Format(null, Message, Describe(context)));

    private static string Describe(HttpContext context) =>
        $"{context.Request.Method} {new string((context.Request.Path.Value ?? "").Take(120).Where(c => !char.IsControl(c)).ToArray())}";
}
