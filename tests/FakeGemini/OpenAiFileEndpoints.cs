using Microsoft.AspNetCore.Http.Features;

namespace GeminiParty.FakeGemini;

/// <summary>
/// OpenAI's files API under <c>/v1beta/openai/files</c>, on the same store as the native files: a file uploaded here
/// is the native <c>files/{id}</c> of the same key, and the other way round. Ids are resource names in any of the
/// forms <see cref="OpenAiResources.TryParse"/> reads.
/// </summary>
internal static class OpenAiFileEndpoints
{
    private const string Collection = "files";

    public static IEndpointRouteBuilder MapOpenAiFiles(this IEndpointRouteBuilder openAi, FakeResources resources)
    {
        openAi.MapPost("/files", context => CreateAsync(context, resources));
        openAi.MapGet("/files", context => ListAsync(context, resources));
        openAi.MapGet("/files/{**id}", (string id, HttpContext context) => GetAsync(context, resources, id));
        openAi.MapDelete("/files/{**id}", (string id, HttpContext context) => DeleteAsync(context, resources, id));
        return openAi;
    }

    /// <summary>A multipart form with a <c>file</c> part and a <c>purpose</c> field, as OpenAI's SDKs send it.</summary>
    private static async Task CreateAsync(HttpContext context, FakeResources resources)
    {
        var call = context.Features.GetRequiredFeature<FakeCall>();
        var part = call.FormFields is not null
            ? await RequestBodyDecoding.ReadFileAsync(context.Request, call.Body, "file", context.RequestAborted)
            : null;
        if (part is null)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Expected a multipart/form-data body with a 'file' part."));
            return;
        }

        if (!call.FormFields!.TryGetValue("purpose", out var purpose) || purpose.Length == 0)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Missing required parameter: 'purpose'."));
            return;
        }

        var file = resources.Add(new FakeResource(OpenAiResources.NewName(Collection), ResourceEndpoints.Key(context), "file", part.Content,
            part.ContentType ?? "application/octet-stream", inputFile: null)
        {
            DisplayName = part.FileName,
            Purpose = purpose,
        });
        await ResponseWriter.WriteJsonAsync(context, 200, OpenAiFileAndBatchResponses.File(file));
    }

    private static Task ListAsync(HttpContext context, FakeResources resources) =>
        OpenAiResources.TryPage(context, resources.OwnedBy(ResourceEndpoints.Key(context), "file"), Collection, out var page, out var hasMore, out var rejection)
            ? ResponseWriter.WriteJsonAsync(context, 200, OpenAiFileAndBatchResponses.FileList(page, hasMore))
            : rejection;

    /// <summary>The file object, or with <c>/content</c> after the id its bytes.</summary>
    private static async Task GetAsync(HttpContext context, FakeResources resources, string id)
    {
        if (!OpenAiResources.TryParse(id, Collection, out var name, out var action) || action is not (null or "content"))
        {
            await OpenAiResources.NotFoundAsync(context, id);
            return;
        }

        if (await OpenAiResources.OwnedAsync(context, resources, name, "file") is not { } file)
        {
            return;
        }

        if (action is null)
        {
            await ResponseWriter.WriteJsonAsync(context, 200, OpenAiFileAndBatchResponses.File(file));
            return;
        }

        var content = file.Content ?? [];
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = content.Length;
        await context.Response.Body.WriteAsync(content, context.RequestAborted);
    }

    private static async Task DeleteAsync(HttpContext context, FakeResources resources, string id)
    {
        if (!OpenAiResources.TryParse(id, Collection, out var name, out var action) || action is not null)
        {
            await OpenAiResources.NotFoundAsync(context, id);
            return;
        }

        if (await OpenAiResources.OwnedAsync(context, resources, name, "file") is null)
        {
            return;
        }

        resources.Remove(name);
        await ResponseWriter.WriteJsonAsync(context, 200, OpenAiFileAndBatchResponses.FileDeleted(name));
    }
}
