using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace GeminiParty.FakeGemini;

/// <summary>The OpenAI-compatible surface under <c>/v1beta/openai</c>.</summary>
internal static class OpenAiEndpoints
{
    private const int FastPromptTokens = 8;

    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder app, FakeGeminiState state)
    {
        var openAi = app.MapGroup(ApiPaths.OpenAiPrefix);
        openAi.MapPost("/chat/completions", context => ChatAsync(context, state));
        openAi.MapPost("/embeddings", context => EmbeddingsAsync(context));
        openAi.MapGet("/models", context => ResponseWriter.WriteJsonAsync(context, 200, OpenAiResponses.ModelList(ModelCatalog.All)));
        openAi.MapGet("/models/{**id}", context => GetModelAsync(context));
        openAi.MapPost("/images/generations", context => ImagesAsync(context));
        openAi.MapPost("/audio/speech", context => SpeechAsync(context));
        openAi.MapPost("/audio/transcriptions", context => TranscriptionAsync(context));
        openAi.MapOpenAiFiles(state.Resources);
        openAi.MapOpenAiBatches(state);
        return app;
    }

    private static Task ImagesAsync(HttpContext context)
    {
        var call = context.Features.GetRequiredFeature<FakeCall>();
        if (!TryValidateModel(context, call, out var rejection))
        {
            return rejection;
        }

        var count = call.TryGetJson(out var root) && root.TryGetProperty("n", out var n) && n.ValueKind == JsonValueKind.Number
            && n.TryGetInt32(out var requested) && requested is > 0 and <= 8
                ? requested
                : 1;
        return ResponseWriter.WriteJsonAsync(context, 200, MediaAndBatchResponses.Images(count));
    }

    private static async Task SpeechAsync(HttpContext context)
    {
        var call = context.Features.GetRequiredFeature<FakeCall>();
        if (!TryValidateModel(context, call, out var rejection))
        {
            await rejection;
            return;
        }

        context.Response.ContentType = "audio/wav";
        context.Response.ContentLength = MediaAndBatchResponses.Wav.Length;
        await context.Response.Body.WriteAsync(MediaAndBatchResponses.Wav, context.RequestAborted);
    }

    /// <summary>A multipart form with a <c>file</c> part and a <c>model</c> field, as OpenAI's SDKs send it.</summary>
    private static Task TranscriptionAsync(HttpContext context)
    {
        var call = context.Features.GetRequiredFeature<FakeCall>();
        if (call.FormFields is null || !call.FormFields.ContainsKey("file"))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Expected a multipart/form-data body with a 'file' part."));
        }

        return TryValidateModel(context, call, out var rejection)
            ? ResponseWriter.WriteJsonAsync(context, 200, MediaAndBatchResponses.Transcription($"fake transcription of {call.FormFields["file"].Length} bytes"))
            : rejection;
    }

    private static Task GetModelAsync(HttpContext context)
    {
        var call = context.Features.GetRequiredFeature<FakeCall>();
        return ModelCatalog.IsUnknown(call.Model)
            ? ResponseWriter.WriteErrorAsync(context, GoogleErrors.ModelNotFound(call.Model, "get"))
            : ResponseWriter.WriteJsonAsync(context, 200, OpenAiResponses.Model(call.Model!));
    }

    private static Task ChatAsync(HttpContext context, FakeGeminiState state)
    {
        var call = context.Features.GetRequiredFeature<FakeCall>();
        if (!TryValidateModel(context, call, out var rejection))
        {
            return rejection;
        }

        var promptTokens = FastPromptTokens;
        OpenAiChatTurn? turn = null;
        if (!state.FastMode)
        {
            if (!call.TryGetJson(out var root) || !root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            {
                return ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Missing required parameter: 'messages'."));
            }

            promptTokens = TokenEstimator.ForRequest(messages);
            turn = OpenAiChatTurn.Read(root);
        }

        var count = Math.Max(1, state.Options.StreamEvents);
        var model = call.Model!;
        var id = "chatcmpl-" + FakeReply.NewResponseId();
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var length = state.Options.PieceLength;
        var usage = new TokenUsage(promptTokens, FakeReply.Tokens(count, length));
        if (turn is not null)
        {
            usage = new TokenUsage(promptTokens, TokenEstimator.ForText(turn.Content ?? turn.ToolArguments ?? ""));
            return call.IsStream
                ? StreamPlayer.PlayAsync(context, call, state, StreamFraming.OpenAiSse, 1,
                    _ => OpenAiResponses.ChatChunk(id, created, model, turn, call.IncludeUsage ? usage : null))
                : ResponseWriter.WriteJsonAsync(context, 200, OpenAiResponses.ChatCompletion(id, created, model, turn, usage));
        }

        if (!call.IsStream)
        {
            var body = state.Body($"chat:{model}:{count}", () => OpenAiResponses.ChatCompletion(id, created, model, FakeReply.Whole(count, length), usage));
            return ResponseWriter.WriteJsonAsync(context, 200, body);
        }

        return StreamPlayer.PlayAsync(context, call, state, StreamFraming.OpenAiSse, count, i =>
        {
            var last = i == count - 1;
            return OpenAiResponses.ChatChunk(id, created, model, FakeReply.Piece(i, count, length), first: i == 0, last, last && call.IncludeUsage ? usage : null);
        });
    }

    private static Task EmbeddingsAsync(HttpContext context)
    {
        var call = context.Features.GetRequiredFeature<FakeCall>();
        if (!TryValidateModel(context, call, out var rejection))
        {
            return rejection;
        }

        if (!call.TryGetJson(out var root))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.MalformedJson());
        }

        if (!root.TryGetProperty("input", out var input))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Missing required parameter: 'input'."));
        }

        var texts = input.ValueKind == JsonValueKind.Array
            ? input.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText()).ToList()
            : [input.ValueKind == JsonValueKind.String ? input.GetString()! : input.GetRawText()];

        var dimensions = root.TryGetProperty("dimensions", out var requested) && requested.ValueKind == JsonValueKind.Number
            && requested.TryGetInt32(out var size) && size > 0
                ? size
                : ModelCatalog.EmbeddingDimensions(call.Model);
        var base64 = root.TryGetProperty("encoding_format", out var format) && format.ValueKind == JsonValueKind.String && format.ValueEquals("base64");

        var vectors = texts.Select(text => FakeEmbeddings.For(text, dimensions)).ToList();
        var promptTokens = texts.Sum(TokenEstimator.ForText);
        return ResponseWriter.WriteJsonAsync(context, 200, OpenAiResponses.Embeddings(call.Model!, vectors, base64, promptTokens));
    }

    private static bool TryValidateModel(HttpContext context, FakeCall call, out Task rejection)
    {
        if (string.IsNullOrEmpty(call.Model))
        {
            rejection = ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Missing required parameter: 'model'."));
            return false;
        }

        if (ModelCatalog.IsUnknown(call.Model))
        {
            rejection = ResponseWriter.WriteErrorAsync(context, GoogleErrors.ModelNotFound(call.Model, "generateContent"));
            return false;
        }

        rejection = Task.CompletedTask;
        return true;
    }
}
