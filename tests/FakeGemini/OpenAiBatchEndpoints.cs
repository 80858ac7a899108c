using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace GeminiParty.FakeGemini;

/// <summary>
/// OpenAI's batch API under <c>/v1beta/openai/batches</c>, as Google offers it: a JSONL input file of chat requests
/// (uploaded through <see cref="OpenAiFileEndpoints"/>) in, a JSONL output file of chat completions out. A batch is
/// a <c>batches/{id}</c> resource of the key that made it, done on its second get as the native batches are.
/// </summary>
internal static class OpenAiBatchEndpoints
{
    private const string Collection = "batches";
    private const string ChatEndpoint = "/v1/chat/completions";
    private const string CompletionWindow = "24h";

    public static IEndpointRouteBuilder MapOpenAiBatches(this IEndpointRouteBuilder openAi, FakeGeminiState state)
    {
        var resources = state.Resources;
        openAi.MapPost("/batches", context => CreateAsync(context, resources));
        openAi.MapGet("/batches", context => ListAsync(context, resources));
        openAi.MapGet("/batches/{**id}", (string id, HttpContext context) => GetAsync(context, state, id));
        openAi.MapPost("/batches/{**id}", (string id, HttpContext context) => CancelAsync(context, resources, id));
        return openAi;
    }

    /// <summary><c>{"input_file_id","endpoint","completion_window","metadata"}</c>; the input file must be the key's own.</summary>
    private static async Task CreateAsync(HttpContext context, FakeResources resources)
    {
        var call = context.Features.GetRequiredFeature<FakeCall>();
        if (!call.TryGetJson(out var root) || root.ValueKind != JsonValueKind.Object)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.MalformedJson());
            return;
        }

        if (String(root, "input_file_id") is not { } inputFileId || !OpenAiResources.TryParse(inputFileId, "files", out var inputName, out var action)
            || action is not null)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Missing or malformed required parameter: 'input_file_id'."));
            return;
        }

        // only chat requests: the output lines are the chat endpoint's answers
        if (String(root, "endpoint") != ChatEndpoint)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest($"'endpoint' must be {ChatEndpoint}."));
            return;
        }

        if (root.TryGetProperty("completion_window", out var window) && !(window.ValueKind == JsonValueKind.String && window.ValueEquals(CompletionWindow)))
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest($"'completion_window' must be {CompletionWindow}."));
            return;
        }

        string? metadata = null;
        if (root.TryGetProperty("metadata", out var given) && given.ValueKind != JsonValueKind.Null)
        {
            if (given.ValueKind != JsonValueKind.Object)
            {
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("'metadata' must be an object."));
                return;
            }

            metadata = given.GetRawText();
        }

        if (await OpenAiResources.OwnedAsync(context, resources, inputName, "file") is not { } inputFile)
        {
            return;
        }

        if (OpenAiBatchInput.Read(inputFile.Content ?? [], ChatEndpoint, out var error) is not { } lines)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest(error!));
            return;
        }

        // recorded as the request's model, as a native batch records the model of its path
        call.Model = lines[0].Model;
        var batch = new FakeOpenAiBatch(inputName, ChatEndpoint, CompletionWindow, metadata, lines);
        var resource = resources.Add(new FakeResource(OpenAiResources.NewName(Collection), ResourceEndpoints.Key(context), "batch", content: null,
            mimeType: "models/" + call.Model, inputFile: null) { OpenAiBatch = batch });
        await ResponseWriter.WriteJsonAsync(context, 200, OpenAiFileAndBatchResponses.Batch(resource, batch.Progress));
    }

    private static Task ListAsync(HttpContext context, FakeResources resources)
    {
        var owned = resources.OwnedBy(ResourceEndpoints.Key(context), "batch").Where(batch => batch.OpenAiBatch is not null);
        return OpenAiResources.TryPage(context, owned, Collection, out var page, out var hasMore, out var rejection)
            ? ResponseWriter.WriteJsonAsync(context, 200, OpenAiFileAndBatchResponses.BatchList(page, hasMore))
            : rejection;
    }

    /// <summary>In progress on the first get; completed on the second, with an output file of the same key.</summary>
    private static async Task GetAsync(HttpContext context, FakeGeminiState state, string id)
    {
        if (await FindAsync(context, state.Resources, id, expectedAction: null) is not { } resource)
        {
            return;
        }

        var batch = resource.OpenAiBatch!;
        var progress = batch.Poll(() => WriteOutput(state, resource, batch));
        await ResponseWriter.WriteJsonAsync(context, 200, OpenAiFileAndBatchResponses.Batch(resource, progress));
    }

    /// <summary><c>POST .../batches/{id}/cancel</c>: a batch not yet completed is cancelled; a completed one is a 400.</summary>
    private static async Task CancelAsync(HttpContext context, FakeResources resources, string id)
    {
        if (await FindAsync(context, resources, id, expectedAction: "cancel") is not { } resource)
        {
            return;
        }

        if (!resource.OpenAiBatch!.TryCancel(out var progress))
        {
            await ResponseWriter.WriteErrorAsync(context, new GoogleError(400, "FAILED_PRECONDITION",
                $"Cannot cancel a batch with status '{progress.Status}'.", []));
            return;
        }

        await ResponseWriter.WriteJsonAsync(context, 200, OpenAiFileAndBatchResponses.Batch(resource, progress));
    }

    /// <summary>
    /// The key's batch made through this API. A native batch of the key is 404 here: it has no input file, endpoint or
    /// output lines to show in OpenAI's shape.
    /// </summary>
    private static async Task<FakeResource?> FindAsync(HttpContext context, FakeResources resources, string id, string? expectedAction)
    {
        if (!OpenAiResources.TryParse(id, Collection, out var name, out var action) || action != expectedAction)
        {
            await OpenAiResources.NotFoundAsync(context, id);
            return null;
        }

        if (await OpenAiResources.OwnedAsync(context, resources, name, "batch") is not { } resource)
        {
            return null;
        }

        if (resource.OpenAiBatch is null)
        {
            await OpenAiResources.NotFoundAsync(context, name);
            return null;
        }

        return resource;
    }

    /// <summary>The output file: each request answered as the chat endpoint answers it, owned by the batch's key.</summary>
    private static string WriteOutput(FakeGeminiState state, FakeResource resource, FakeOpenAiBatch batch)
    {
        var count = Math.Max(1, state.Options.StreamEvents);
        var length = state.Options.PieceLength;
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var content = OpenAiFileAndBatchResponses.BatchOutput(batch.Lines, line => OpenAiResponses.ChatCompletion(
            "chatcmpl-" + FakeReply.NewResponseId(), created, line.Model, FakeReply.Whole(count, length),
            new TokenUsage(line.PromptTokens, FakeReply.Tokens(count, length))));
        var name = OpenAiResources.NewName("files");
        state.Resources.Add(new FakeResource(name, resource.Owner, "file", content, "application/jsonl", inputFile: null)
        {
            DisplayName = $"{resource.Name["batches/".Length..]}_output.jsonl",
            Purpose = "batch_output",
        });
        return name;
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;
}
