using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace GeminiParty.FakeGemini;

/// <summary>The native Gemini API: <c>/v1beta/models...</c> (and <c>/v1/models...</c>, <c>/v1alpha/models...</c>).</summary>
internal static class NativeEndpoints
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 1000;
    private const int FastPromptTokens = 8;

    public static IEndpointRouteBuilder MapNativeApi(this IEndpointRouteBuilder app, FakeGeminiState state)
    {
        foreach (var version in new[] { "/v1beta", "/v1", "/v1alpha" })
        {
            app.MapGet(version + "/models", context => ListModelsAsync(context));
            app.MapGet(version + "/models/{**name}", context => GetModelAsync(context));
            app.MapPost(version + "/models/{**name}", context => PostAsync(context, state));
        }

        return app;
    }

    private static Task ListModelsAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var pageSize = int.TryParse(query["pageSize"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) && size > 0
            ? Math.Min(size, MaxPageSize)
            : DefaultPageSize;

        var offset = 0;
        var pageToken = query["pageToken"].ToString();
        if (pageToken.Length > 0 && !TryReadPageToken(pageToken, out offset))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Invalid page token."));
        }

        var models = ModelCatalog.All;
        var next = offset + pageSize < models.Count ? PageToken(offset + pageSize) : null;
        return ResponseWriter.WriteJsonAsync(context, 200, GeminiResponses.ModelList(models.Skip(offset).Take(pageSize), next));
    }

    private static Task GetModelAsync(HttpContext context)
    {
        var call = context.Features.GetRequiredFeature<FakeCall>();
        return ModelCatalog.IsUnknown(call.Model)
            ? ResponseWriter.WriteErrorAsync(context, GoogleErrors.ModelNotFound(call.Model, "get"))
            : ResponseWriter.WriteJsonAsync(context, 200, GeminiResponses.Model(ModelCatalog.Describe(call.Model!)));
    }

    private static Task PostAsync(HttpContext context, FakeGeminiState state)
    {
        var call = context.Features.GetRequiredFeature<FakeCall>();
        if (call.Method is null)
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.NotFound("Method not found."));
        }

        if (ModelCatalog.IsUnknown(call.Model))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.ModelNotFound(call.Model, call.Method));
        }

        // a resource belongs to the key that made it: any other key is refused, with nothing said about the key
        if (call.Body.Length > 0 && state.Resources.ForeignIn(System.Text.Encoding.UTF8.GetString(call.Body), call.ApiKey!) is { } foreign)
        {
            return ResourceEndpoints.DeniedAsync(context, foreign);
        }

        return call.Method switch
        {
            "generateContent" => GenerateAsync(context, call, state),
            "streamGenerateContent" => StreamAsync(context, call, state),
            "embedContent" => EmbedAsync(context, call),
            "batchEmbedContents" => BatchEmbedAsync(context, call),
            "countTokens" => CountTokensAsync(context, call),
            "predict" => ResponseWriter.WriteJsonAsync(context, 200, MediaAndBatchResponses.Predictions(SampleCount(call))),
            "predictLongRunning" => OperationAsync(context, call, state),
            "batchGenerateContent" => BatchAsync(context, call, state, "GenerateContentBatch"),
            "asyncBatchEmbedContent" => BatchAsync(context, call, state, "EmbedContentBatch"),
            _ => ResponseWriter.WriteErrorAsync(context, GoogleErrors.NotFound($"Method not found: {call.Method}.")),
        };
    }

    private static Task GenerateAsync(HttpContext context, FakeCall call, FakeGeminiState state)
    {
        if (!TryReadPromptTokens(call, state, out var promptTokens))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("* GenerateContentRequest.contents: contents is not specified\n"));
        }

        var count = Math.Max(1, state.Options.StreamEvents);
        var model = call.Model!;
        var length = state.Options.PieceLength;
        var body = state.Body($"generate:{model}:{count}", () => GeminiResponses.GenerateContent(
            model, FakeReply.NewResponseId(), FakeReply.Whole(count, length), "STOP", new TokenUsage(promptTokens, FakeReply.Tokens(count, length))));
        return ResponseWriter.WriteJsonAsync(context, 200, body);
    }

    private static Task StreamAsync(HttpContext context, FakeCall call, FakeGeminiState state)
    {
        if (!TryReadPromptTokens(call, state, out var promptTokens))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("* GenerateContentRequest.contents: contents is not specified\n"));
        }

        var count = Math.Max(1, state.Options.StreamEvents);
        var model = call.Model!;
        var responseId = FakeReply.NewResponseId();
        var length = state.Options.PieceLength;
        var usage = new TokenUsage(promptTokens, FakeReply.Tokens(count, length));
        var framing = context.Request.Query["alt"] == "sse" ? StreamFraming.NativeSse : StreamFraming.NativeJsonArray;
        return StreamPlayer.PlayAsync(context, call, state, framing, count, i =>
        {
            var last = i == count - 1;
            return GeminiResponses.GenerateContent(model, responseId, FakeReply.Piece(i, count, length), last ? "STOP" : null, last ? usage : null);
        });
    }

    private static Task EmbedAsync(HttpContext context, FakeCall call)
    {
        if (!call.TryGetJson(out var root))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.MalformedJson());
        }

        var values = FakeEmbeddings.For(ContentText(root), Dimensions(root, call.Model));
        return ResponseWriter.WriteJsonAsync(context, 200, GeminiResponses.Embedding(values));
    }

    private static Task BatchEmbedAsync(HttpContext context, FakeCall call)
    {
        if (!call.TryGetJson(out var root))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.MalformedJson());
        }

        if (!root.TryGetProperty("requests", out var requests) || requests.ValueKind != JsonValueKind.Array)
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("* BatchEmbedContentsRequest.requests: requests is not specified\n"));
        }

        var embeddings = requests.EnumerateArray()
            .Select(request => FakeEmbeddings.For(ContentText(request), Dimensions(request, call.Model)))
            .ToList();
        return ResponseWriter.WriteJsonAsync(context, 200, GeminiResponses.BatchEmbeddings(embeddings));
    }

    /// <summary>A batch from inline requests or an uploaded file; Google refuses one with neither. It belongs to the key.</summary>
    private static Task BatchAsync(HttpContext context, FakeCall call, FakeGeminiState state, string type)
    {
        var inputFile = call.TryGetJson(out var root) ? MediaAndBatchResponses.InputFile(root) : null;
        if (!call.TryGetJson(out root) || (MediaAndBatchResponses.InlineRequestCount(root) == 0 && inputFile is null))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("* batch.input_config: input_config is not specified\n"));
        }

        var body = MediaAndBatchResponses.Batch(call.Model!, type, MediaAndBatchResponses.DisplayName(root), MediaAndBatchResponses.InlineRequestCount(root));
        using var created = JsonDocument.Parse(body);
        // the request is kept as the batch's content: its inline requests are what the results answer
        state.Resources.Add(new FakeResource(created.RootElement.GetProperty("name").GetString()!, call.ApiKey!, "batch", call.Body,
            "models/" + call.Model, inputFile) { DisplayName = MediaAndBatchResponses.DisplayName(root), BatchType = type });
        return ResponseWriter.WriteJsonAsync(context, 200, body);
    }

    /// <summary>A long-running operation (Veo), owned by the key; done on its second poll.</summary>
    private static Task OperationAsync(HttpContext context, FakeCall call, FakeGeminiState state)
    {
        var body = MediaAndBatchResponses.Operation(call.Model!);
        using var created = JsonDocument.Parse(body);
        state.Resources.Add(created.RootElement.GetProperty("name").GetString()!, call.ApiKey!, "operation");
        return ResponseWriter.WriteJsonAsync(context, 200, body);
    }

    /// <summary>Imagen's <c>parameters.sampleCount</c>, 1 when absent.</summary>
    private static int SampleCount(FakeCall call) =>
        call.TryGetJson(out var root) && root.ValueKind == JsonValueKind.Object
        && root.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
        && parameters.TryGetProperty("sampleCount", out var count) && count.ValueKind == JsonValueKind.Number
        && count.TryGetInt32(out var n) && n is > 0 and <= 8
            ? n
            : 1;

    private static Task CountTokensAsync(HttpContext context, FakeCall call) =>
        call.TryGetJson(out var root)
            ? ResponseWriter.WriteJsonAsync(context, 200, GeminiResponses.CountTokens(TokenEstimator.ForRequest(root)))
            : ResponseWriter.WriteErrorAsync(context, GoogleErrors.MalformedJson());

    /// <summary>False when the request has no <c>contents</c>, which Google rejects; fast mode skips the check.</summary>
    private static bool TryReadPromptTokens(FakeCall call, FakeGeminiState state, out int promptTokens)
    {
        promptTokens = FastPromptTokens;
        if (state.FastMode)
        {
            return true;
        }

        if (!call.TryGetJson(out var root) || root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("contents", out _))
        {
            return false;
        }

        promptTokens = TokenEstimator.ForRequest(root);
        return true;
    }

    internal static string ContentText(JsonElement request)
    {
        if (request.ValueKind != JsonValueKind.Object
            || !request.TryGetProperty("content", out var content)
            || content.ValueKind != JsonValueKind.Object
            || !content.TryGetProperty("parts", out var parts)
            || parts.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var text = new StringBuilder();
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var piece) && piece.ValueKind == JsonValueKind.String)
            {
                text.Append(piece.GetString());
            }
        }

        return text.ToString();
    }

    private static int Dimensions(JsonElement request, string? model) =>
        request.ValueKind == JsonValueKind.Object
        && request.TryGetProperty("outputDimensionality", out var requested)
        && requested.ValueKind == JsonValueKind.Number
        && requested.TryGetInt32(out var dimensions)
        && dimensions > 0
            ? dimensions
            : ModelCatalog.EmbeddingDimensions(model);

    private static string PageToken(int offset) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes("offset:" + offset.ToString(CultureInfo.InvariantCulture)));

    private static bool TryReadPageToken(string token, out int offset)
    {
        offset = 0;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            return text.StartsWith("offset:", StringComparison.Ordinal)
                && int.TryParse(text.AsSpan("offset:".Length), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
