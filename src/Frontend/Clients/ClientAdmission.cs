using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Clients;

/// <summary>
/// The client step of a request, around the forwarding engine: before it, the model allowlist and (for a client with
/// limits) the client grain's admission, which answers 403 or 429 itself so nothing goes upstream and no key is touched;
/// after it, the request's usage to the client grain. A client with limits costs one awaited grain call per request,
/// plus one not awaited at the end when it holds a slot or has a token budget; other clients cost no grain call on the
/// request path (their usage goes in batches). A Live API session is one request for its whole life: checked before
/// its upgrade (<see cref="AllowLiveUpgradeAsync"/>), admitted with its setup's model (<see cref="DecideAsync"/>),
/// completed with its tokens when it ends.
/// </summary>
public sealed partial class ClientAdmission(
    ClientGrains grains,
    ClientUsageReporter usage,
    ClientSlotLeases slots,
    KnownModels known,
    ILogger<ClientAdmission> logger)
{
    /// <summary>The pseudo-model of model listing: every client may list models.</summary>
    private const string ListModels = "models.list";

    private static readonly ClientRefusalAnswer Unreachable = new(StatusCodes.Status503ServiceUnavailable,
        "The cluster that keeps this client's limits is not reachable right now; retry shortly.", TimeSpan.FromSeconds(1));

    /// <summary>
    /// Admits the request or answers it (403, 429, or 503 when the client's grain cannot be reached). The result is also
    /// put on the request (<see cref="ClientRequest.Of"/>); when <see cref="ClientRequest.Admitted"/> is false, the
    /// answer is written and the caller only completes its bookkeeping.
    /// </summary>
    public async ValueTask<ClientRequest> AdmitAsync(HttpContext context, ApiSurface surface, string model)
    {
        var request = await DecideAsync(ClientPolicy.Of(context), model);
        context.Features.Set(request);
        if (request.Decision is { } decision)
        {
            RateLimitHeaders.Write(context.Response, decision);
            if (request.Admitted)
            {
                // a path that ends without Complete (an exception, a client gone mid-way) must not leave a concurrency
                // slot held, and renewed, for as long as this process lives
                context.Response.OnCompleted(SettleForgottenAsync, (request, context));
            }
        }
        if (request.Refused is { } refused)
        {
            await surface.WriteErrorAsync(context, refused.Status, refused.Message, refused.RetryAfter);
        }
        return request;
    }

    /// <summary>
    /// Admits one request of <paramref name="client"/> for <paramref name="model"/>, or says why not
    /// (<see cref="ClientRequest.Refused"/>), without answering it: the HTTP routes answer through
    /// <see cref="AdmitAsync"/>, a Live session (one request for its whole life) closes with the refusal. An admitted
    /// request that holds a concurrency slot keeps it until <see cref="Complete"/>.
    /// </summary>
    public async ValueTask<ClientRequest> DecideAsync(ClientPolicy client, string model)
    {
        if (model != ListModels && !client.AllowsModel(model))
        {
            usage.Add(client.Name, known.Bucket(model), refused: 1);
            return new ClientRequest(client, model, null)
            {
                Refused = new(StatusCodes.Status403Forbidden, $"Client '{client.Name}' may not use model '{model}': its models are {client.Models}."),
            };
        }
        if (!client.Limits.Any)
        {
            return new ClientRequest(client, model, null);
        }
        if (await AskAsync(client, known.Bucket(model), admit: true) is not { } decision)
        {
            return new ClientRequest(client, model, null) { Refused = Unreachable };
        }
        if (!decision.Admitted)
        {
            return new ClientRequest(client, model, decision)
            {
                Refused = new(StatusCodes.Status429TooManyRequests, RefusalMessage(client, decision), decision.RetryAfter),
            };
        }
        if (decision.Slot != 0)
        {
            slots.Hold(client.Name, decision.Slot);
        }
        return new ClientRequest(client, model, decision);
    }

    /// <summary>
    /// The client step of a Live API session before its WebSocket upgrade, the last moment a refusal can be an HTTP
    /// answer in Google's shape: 403 for a client with <c>live=false</c>, 429 with <c>Retry-After</c> for a client over
    /// a limit now. The setup message, and with it the model, comes only after the upgrade, so nothing is admitted
    /// here: the session is admitted with its model by <see cref="DecideAsync"/>. Returns false when it answered.
    /// </summary>
    public async ValueTask<bool> AllowLiveUpgradeAsync(HttpContext context)
    {
        var client = ClientPolicy.Of(context);
        var surface = ApiSurface.GeminiNative;
        if (!client.AllowsLiveSessions())
        {
            usage.Add(client.Name, KnownModels.Unknown, refused: 1);
            await surface.WriteErrorAsync(context, StatusCodes.Status403Forbidden,
                $"Client '{client.Name}' may not open Live API sessions (live=false in CLIENTS_FILE).");
            return false;
        }
        if (!client.Limits.Any)
        {
            return true;
        }
        if (await AskAsync(client, KnownModels.Unknown, admit: false) is not { } decision)
        {
            await surface.WriteErrorAsync(context, Unreachable.Status, Unreachable.Message, Unreachable.RetryAfter);
            return false;
        }
        if (decision.Admitted)
        {
            return true;
        }
        RateLimitHeaders.Write(context.Response, decision);
        await surface.WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, RefusalMessage(client, decision), decision.RetryAfter);
        return false;
    }

    /// <summary>The client grain's decision, or null when the grain could not be reached.</summary>
    private async ValueTask<ClientDecision?> AskAsync(ClientPolicy client, string model, bool admit)
    {
        try
        {
            var grain = grains.For(client.Name);
            return admit ? await grain.AdmitAsync(model, client.Limits) : await grain.CheckAsync(model, client.Limits);
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            LogGrainUnreachable(logger, ex, client.Name);
            return null;
        }
    }

    /// <summary>Counts an admitted request's outcome for its client once its answer is complete (once: later calls do nothing).</summary>
    public void Complete(ClientRequest request, int status)
    {
        if (!request.Admitted || !request.TryComplete())
        {
            return; // refusals are counted where they are decided
        }
        var requests = request.Decision is null ? 1 : 0; // the grain counted it when it admitted it
        var errors = status >= 400 ? 1 : 0;
        var rateLimited = status == StatusCodes.Status429TooManyRequests ? 1 : 0;
        var tokens = request.Tokens ?? default;
        var slot = request.Decision?.Slot ?? 0;
        if (slot != 0 || request.Client.Limits.TokensPerDay is not null)
        {
            // at once, not batched: the slot frees and the tokens count before the client's next request is decided
            slots.Release(slot);
            var counts = new UsageCounts { Requests = requests, Errors = errors, RateLimited = rateLimited };
            counts.AddTokens(tokens);
            _ = CompleteAsync(request.Client.Name, slot, known.Bucket(request.Model), counts);
        }
        else
        {
            usage.Add(request.Client.Name, known.Bucket(request.Model), requests, errors, rateLimited: rateLimited, tokens: tokens);
        }
    }

    /// <summary>After the response: completes a grain-admitted request that its route did not complete.</summary>
    private Task SettleForgottenAsync(object state)
    {
        var (request, context) = ((ClientRequest, HttpContext))state;
        var status = context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted
            ? StatusCodes.Status499ClientClosedRequest
            : context.Response.StatusCode;
        Complete(request, status);
        return Task.CompletedTask;
    }

    private async Task CompleteAsync(string client, long slot, string model, UsageCounts counts)
    {
        try
        {
            await grains.For(client).CompleteAsync(slot, model, counts);
        }
        catch (Exception ex)
        {
            LogCompleteFailed(logger, ex, client); // the slot's lease runs out instead
        }
    }

    private static string RefusalMessage(ClientPolicy client, ClientDecision decision)
    {
        var limits = client.Limits;
        return decision.Refusal switch
        {
            ClientRefusal.RequestsPerMinute => $"Client '{client.Name}' is over its limit of {limits.RequestsPerMinute} requests per minute (rpm); retry in {RateLimitHeaders.Duration(decision.RetryAfter)}.",
            ClientRefusal.RequestsPerDay => $"Client '{client.Name}' is over its limit of {limits.RequestsPerDay} requests per day (rpd, Pacific day); it resets in {RateLimitHeaders.Duration(decision.RetryAfter)}.",
            ClientRefusal.TokensPerDay => $"Client '{client.Name}' has used its {limits.TokensPerDay} tokens per day (tpd, Pacific day); it resets in {RateLimitHeaders.Duration(decision.RetryAfter)}.",
            _ => $"Client '{client.Name}' already has {limits.Concurrency} requests in flight (concurrency); retry when one has finished.",
        };
    }

    [LoggerMessage(EventId = 3303, Level = LogLevel.Warning, Message = "The grain of client {Client} is not reachable; refused its request with 503")]
    private static partial void LogGrainUnreachable(ILogger logger, Exception exception, string client);

    [LoggerMessage(EventId = 3304, Level = LogLevel.Warning, Message = "Could not report a finished request of client {Client}; its slot expires with its lease")]
    private static partial void LogCompleteFailed(ILogger logger, Exception exception, string client);
}
