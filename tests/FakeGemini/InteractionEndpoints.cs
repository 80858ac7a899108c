using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace GeminiParty.FakeGemini;

/// <summary>
/// Google's Interactions API: <c>POST /v1beta/interactions</c> (whole, streamed, or in the background), get (also
/// replayed as a stream with <c>?stream=true</c>), delete and <c>/cancel</c>. Each interaction belongs to the key that
/// made it: another key gets 403 PERMISSION_DENIED without a key reason, an unknown id 404. A turn's text says how far
/// down its <c>previous_interaction_id</c> chain it is, so a test sees that a conversation's history reached the
/// project that holds it.
/// </summary>
internal static class InteractionEndpoints
{
    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static IEndpointRouteBuilder MapInteractionApi(this IEndpointRouteBuilder app, FakeGeminiState state)
    {
        var resources = state.Resources;
        foreach (var version in new[] { "/v1beta", "/v1", "/v1alpha" })
        {
            app.MapPost(version + "/interactions", context => CreateAsync(context, state));
            app.MapGet(version + "/interactions/{id}", (string id, HttpContext context) => GetAsync(context, state, id));
            app.MapDelete(version + "/interactions/{id}", (string id, HttpContext context) => DeleteAsync(context, resources, id));
            app.MapPost(version + "/interactions/{id}/cancel", (string id, HttpContext context) => CancelAsync(context, resources, id));
        }

        return app;
    }

    private static async Task CreateAsync(HttpContext context, FakeGeminiState state)
    {
        var call = context.Features.GetRequiredFeature<FakeCall>();
        var resources = state.Resources;
        if (!call.TryGetJson(out var root) || root.ValueKind != JsonValueKind.Object)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.MalformedJson());
            return;
        }

        var model = StringProperty(root, "model") is { } named ? ApiPaths.StripModelsPrefix(named) : null;
        var agent = model is null ? StringProperty(root, "agent") : null;
        if (model is null && agent is null)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Either model or agent must be specified."));
            return;
        }

        if (model is not null && ModelCatalog.IsUnknown(model))
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.ModelNotFound(model, "generateContent"));
            return;
        }

        if (!root.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array or JsonValueKind.Object))
        {
            if (StringProperty(root, "continuation_token") is null)
            {
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("input is required."));
                return;
            }
        }

        var background = root.TryGetProperty("background", out var b) && b.ValueKind == JsonValueKind.True;
        var store = !(root.TryGetProperty("store", out var s) && s.ValueKind == JsonValueKind.False);
        if (background && !store)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("A background interaction must be stored: store cannot be false."));
            return;
        }

        // a file belongs to the key that made it, here as in a generate request
        if (resources.ForeignIn(Encoding.UTF8.GetString(call.Body), ResourceEndpoints.Key(context)) is { } foreign)
        {
            await ResourceEndpoints.DeniedAsync(context, foreign);
            return;
        }

        var turn = 1;
        var previousId = StringProperty(root, "previous_interaction_id");
        if (previousId is not null)
        {
            if (await OwnedAsync(context, resources, previousId) is not { } previous)
            {
                return;
            }

            turn = previous.Turn + 1;
        }

        var count = Math.Max(1, state.Options.StreamEvents);
        var length = state.Options.PieceLength;
        var pieces = Enumerable.Range(0, count)
            .Select(i => (i == 0 ? $"Turn {turn} of the conversation. " : "") + FakeReply.Piece(i, count, length))
            .ToArray();
        var usage = new TokenUsage(TokenEstimator.ForRequest(root), TokenEstimator.ForText(string.Concat(pieces)));
        var interaction = new FakeInteraction(
            "v1_" + RandomNumberGenerator.GetString(IdAlphabet, 32), ResourceEndpoints.Key(context), model, agent, previousId, turn, pieces, usage,
            background && !call.IsStream);
        if (store)
        {
            resources.AddInteraction(interaction);
        }

        if (call.IsStream)
        {
            await StreamAsync(context, call, state, interaction);
            return;
        }

        if (!interaction.Background)
        {
            interaction.Complete();
        }

        await ResponseWriter.WriteJsonAsync(context, 200, InteractionResponses.Interaction(interaction));
    }

    /// <summary>The owner gets it; a background one finishes on its second get. <c>?stream=true</c> replays its events.</summary>
    private static async Task GetAsync(HttpContext context, FakeGeminiState state, string id)
    {
        if (await OwnedAsync(context, state.Resources, id) is not { } interaction)
        {
            return;
        }

        interaction.Poll();
        if (!string.Equals(context.Request.Query["stream"], "true", StringComparison.OrdinalIgnoreCase))
        {
            await ResponseWriter.WriteJsonAsync(context, 200, InteractionResponses.Interaction(interaction));
            return;
        }

        // a stream follows a background interaction to its end
        if (interaction.Background)
        {
            interaction.Complete();
        }

        var call = context.Features.GetRequiredFeature<FakeCall>();
        if (interaction.HasOutput)
        {
            await StreamPlayer.PlayAsync(context, call, state, StreamFraming.InteractionSse, InteractionResponses.OutputEventCount(interaction),
                i => InteractionResponses.OutputEvent(interaction, i));
            return;
        }

        // still being streamed to its creator: only its creation can be told yet
        var count = interaction.Status == FakeInteraction.InProgress ? 1 : 2;
        await StreamPlayer.PlayAsync(context, call, state, StreamFraming.InteractionSse, count, i => InteractionResponses.BareEvent(interaction, i));
    }

    private static async Task DeleteAsync(HttpContext context, FakeResources resources, string id)
    {
        if (await OwnedAsync(context, resources, id) is null)
        {
            return;
        }

        resources.RemoveInteraction(id);
        await ResponseWriter.WriteJsonAsync(context, 200, "{}"u8.ToArray());
    }

    private static async Task CancelAsync(HttpContext context, FakeResources resources, string id)
    {
        if (await OwnedAsync(context, resources, id) is not { } interaction)
        {
            return;
        }

        if (!interaction.TryCancel())
        {
            await ResponseWriter.WriteErrorAsync(context, new GoogleError(400, "FAILED_PRECONDITION",
                "Only an in-progress background interaction can be cancelled.", []));
            return;
        }

        await ResponseWriter.WriteJsonAsync(context, 200, InteractionResponses.Interaction(interaction));
    }

    /// <summary>
    /// Streams a new interaction: it is in progress until its last event is built, and failed if the stream breaks off
    /// before (a MidStreamFailure, or a client that went away).
    /// </summary>
    private static async Task StreamAsync(HttpContext context, FakeCall call, FakeGeminiState state, FakeInteraction interaction)
    {
        var count = InteractionResponses.OutputEventCount(interaction);
        try
        {
            await StreamPlayer.PlayAsync(context, call, state, StreamFraming.InteractionSse, count, i =>
            {
                if (i == count - 1)
                {
                    interaction.Complete();
                }

                return InteractionResponses.OutputEvent(interaction, i);
            });
        }
        finally
        {
            interaction.FailIfUnfinished();
        }
    }

    /// <summary>
    /// The interaction if <paramref name="context"/>'s key owns it. Otherwise answers as Google does: 403 without a key
    /// reason when another key's project holds it, 404 when no project does (deleted, never stored, never made).
    /// </summary>
    private static async Task<FakeInteraction?> OwnedAsync(HttpContext context, FakeResources resources, string id)
    {
        var interaction = resources.FindInteraction(id);
        if (interaction is null)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.NotFound($"Interaction {id} was not found."));
            return null;
        }

        if (interaction.Owner != ResourceEndpoints.Key(context))
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.ResourceDenied("interaction", id));
            return null;
        }

        context.Features.GetRequiredFeature<FakeCall>().Model ??= interaction.Model ?? interaction.Agent;
        return interaction;
    }

    private static string? StringProperty(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;
}
