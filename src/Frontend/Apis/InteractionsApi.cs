using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Resources;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// Google's Interactions API (<c>/{version}/interactions</c>): a create is a generation, rotated and counted under its
/// body's <c>model</c> (or <c>agent</c>) like <c>generateContent</c>; the interaction it makes is stored in the project of
/// the key that answered, so it is bound to that key (from the answer's <c>id</c>, or a stream's first event), and a
/// follow-up turn (<c>previous_interaction_id</c>), a get, a cancel and a delete go to that key from any frontend.
/// </summary>
public static class InteractionsApi
{
    /// <summary>What requests about one interaction rotate under when the gateway has no record of it: no model's quota.</summary>
    private const string Bucket = "interactions";

    public static IEndpointRouteBuilder MapInteractionsApi(this IEndpointRouteBuilder app)
    {
        var gateway = app.ServiceProvider.GetRequiredService<IOptions<FrontendOptions>>().Value;
        var safety = gateway.SafetyThresholds;
        var forwarder = app.ServiceProvider.GetRequiredService<UpstreamForwarder>();
        var affinity = app.ServiceProvider.GetRequiredService<ResourceAffinity>();
        var api = app.MapGroup(gateway.NormalizedPrefix).RequireClientToken(app.ServiceProvider, ApiSurface.GeminiNative).WithTags("Interactions");
        foreach (var version in GeminiNativeApi.Versions)
        {
            api.MapPost($"/{version}/interactions", (HttpContext context) => CreateAsync(context, version, forwarder, affinity, gateway, safety));
            api.MapMethods($"/{version}/interactions/{{id}}", [HttpMethods.Get, HttpMethods.Delete], (string id, HttpContext context) =>
                OneAsync(context, version, id, "", forwarder, affinity, gateway));
            api.MapPost($"/{version}/interactions/{{id}}/cancel", (string id, HttpContext context) =>
                OneAsync(context, version, id, "/cancel", forwarder, affinity, gateway));
        }
        return app;
    }

    /// <summary><c>POST /{version}/interactions</c>: to the owner of the previous interaction (and of any file the body names), else rotated.</summary>
    private static async Task CreateAsync(HttpContext context, string version, UpstreamForwarder forwarder, ResourceAffinity affinity, FrontendOptions gateway,
        IReadOnlyDictionary<string, string> safety)
    {
        var surface = ApiSurface.GeminiNative;
        using var body = await RequestBody.ReadOrRejectAsync(context, surface, gateway.MaxRequestBodyBytes);
        if (body is null)
        {
            return;
        }
        ReadOnlyMemory<byte> json;
        RequestFactsReader.RequestFacts facts;
        try
        {
            json = RequestBodyDecoder.Decoded(context.Request, body.Memory, gateway.MaxRequestBodyBytes);
            facts = RequestFactsReader.Read(json.Span);
        }
        catch (InvalidRequestBodyException ex)
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message);
            return;
        }
        string model;
        if (facts.Model is null && facts.Agent is null)
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                "An interaction needs a 'model' string (e.g. \"gemini-2.5-flash\") or an 'agent' string.");
            return;
        }
        if (!ModelName.TryNormalize(facts.Model ?? facts.Agent, out model))
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                $"Invalid '{(facts.Model is null ? "agent" : "model")}': {ModelName.Rules}");
            return;
        }
        var names = new List<string>();
        if (facts.PreviousInteractionId is { } previousId)
        {
            if (ResourceNames.Interaction(previousId) is not { } previous)
            {
                await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest, InvalidId("previous_interaction_id"));
                return;
            }
            names.Add(previous);
        }
        foreach (var name in ResourceNames.InBody(json.Span))
        {
            if (!names.Contains(name))
            {
                names.Add(name);
            }
        }
        var payload = body.Memory;
        var rewritten = false;
        if (safety.Count > 0)
        {
            try
            {
                payload = SafetySettingsMerger.Merge(json.Span, safety, interaction: true);
                rewritten = RequestBodyDecoder.IsEncoded(context.Request);
            }
            catch (InvalidRequestBodyException ex)
            {
                await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest, ex.Message);
                return;
            }
        }
        if (await ResourceRoutesApi.ResolveOrRejectAsync(context, surface, affinity, names) is not { } owner)
        {
            return;
        }
        await forwarder.ForwardAsync(context, new UpstreamCall(surface, HttpMethod.Post,
            $"{version}/interactions{GeminiNativeApi.ForwardedQuery(context.Request)}", model, payload, facts.Stream, rewritten)
        {
            Resources = owner,
            // store: false asks upstream to keep nothing, so there is nothing to find later
            RecordAnswer = facts.Store ? AnswerRecord.InteractionId : AnswerRecord.None,
            ModelIn = facts.Model is null ? ModelPlace.None : ModelPlace.Body,
            Interaction = true,
        });
    }

    /// <summary><c>GET</c> or <c>DELETE /{version}/interactions/{id}</c>, or <c>POST .../{id}/cancel</c>: to the interaction's key.</summary>
    private static async Task OneAsync(HttpContext context, string version, string id, string action, UpstreamForwarder forwarder,
        ResourceAffinity affinity, FrontendOptions gateway)
    {
        var surface = ApiSurface.GeminiNative;
        if (ResourceNames.Interaction(id) is not { } name)
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest, InvalidId("interaction id"));
            return;
        }
        var method = HttpMethod.Parse(context.Request.Method);
        using var body = await RequestBody.ReadOrRejectAsync(context, surface, gateway.MaxRequestBodyBytes);
        if (body is null || await ResourceRoutesApi.ResolveOrRejectAsync(context, surface, affinity, [name]) is not { } owner)
        {
            return;
        }
        var stream = string.Equals(context.Request.Query["stream"], "true", StringComparison.OrdinalIgnoreCase);
        await forwarder.ForwardAsync(context, new UpstreamCall(surface, method,
            $"{version}/interactions/{id}{action}{GeminiNativeApi.ForwardedQuery(context.Request)}", Bucket, body.Memory, stream)
        {
            Resources = owner,
            // a get (or a cancel's answer) refreshes the binding while the conversation is in use
            RecordAnswer = method == HttpMethod.Delete ? AnswerRecord.None : AnswerRecord.InteractionId,
            Deletes = method == HttpMethod.Delete ? name : null,
            Interaction = true,
        });
    }

    private static string InvalidId(string field) =>
        $"Invalid {field}: use letters, digits, '.', '-' and '_', at most 128 characters.";
}
