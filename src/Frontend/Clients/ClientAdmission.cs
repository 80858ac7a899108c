using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Clients;

/// <summary>
/// The client step of a request, around the forwarding engine: before it, the model allowlist and (for a client with
/// limits) the client grain's admission, which answers 403 or 429 itself so nothing goes upstream and no key is touched;
/// after it, the request's usage to the client grain. A client with limits costs one awaited grain call per request,
/// plus one not awaited at the end when it holds a slot or has a token budget; other clients cost no grain call on the
/// request path (their usage goes in batches).
/// </summary>
public sealed partial class ClientAdmission(
    IGrainFactory grains,
    ClientUsageReporter usage,
    ClientSlotLeases slots,
    KnownModels known,
    ILogger<ClientAdmission> logger)
{
    /// <summary>The pseudo-model of model listing: every client may list models.</summary>
    private const string ListModels = "models.list";

    /// <summary>
    /// Admits the request or answers it (403, 429, or 503 when the client's grain cannot be reached). The result is also
    /// put on the request (<see cref="ClientRequest.Of"/>); when <see cref="ClientRequest.Admitted"/> is false, the
    /// answer is written and the caller only completes its bookkeeping.
    /// </summary>
    public async ValueTask<ClientRequest> AdmitAsync(HttpContext context, ApiSurface surface, string model)
    {
        var client = ClientPolicy.Of(context);
        ClientRequest request;
        if (model != ListModels && !client.AllowsModel(model))
        {
            usage.Add(client.Name, known.Bucket(model), new UsageCounts { Refused = 1 });
            request = new ClientRequest(client, model, null) { Admitted = false };
            context.Features.Set(request);
            await surface.WriteErrorAsync(context, StatusCodes.Status403Forbidden,
                $"Client '{client.Name}' may not use model '{model}': its models are {client.Models}.");
            return request;
        }
        if (!client.Limits.Any)
        {
            request = new ClientRequest(client, model, null);
            context.Features.Set(request);
            return request;
        }

        ClientDecision decision;
        try
        {
            decision = await grains.GetGrain<IClientGrain>(client.Name).AdmitAsync(known.Bucket(model), client.Limits);
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            LogGrainUnreachable(logger, ex, client.Name);
            request = new ClientRequest(client, model, null) { Admitted = false };
            context.Features.Set(request);
            await ClusterUnreachable.AnswerAsync(context, surface, "The cluster that keeps this client's limits");
            return request;
        }
        RateLimitHeaders.Write(context.Response, decision);
        request = new ClientRequest(client, model, decision) { Admitted = decision.Admitted };
        context.Features.Set(request);
        if (!decision.Admitted)
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, RefusalMessage(client, decision), decision.RetryAfter);
            return request;
        }
        if (decision.Slot != 0)
        {
            slots.Hold(client.Name, decision.Slot);
        }
        return request;
    }

    /// <summary>Counts an admitted request's outcome for its client once its answer is complete.</summary>
    public void Complete(ClientRequest request, int status)
    {
        if (!request.Admitted)
        {
            return; // refusals are counted where they are decided
        }
        var counts = new UsageCounts
        {
            Requests = request.Decision is null ? 1 : 0, // the grain counted it when it admitted it
            Errors = status >= 400 ? 1 : 0,
            RateLimited = status == StatusCodes.Status429TooManyRequests ? 1 : 0,
        };
        if (request.Tokens is { } tokens)
        {
            counts.AddTokens(tokens);
        }
        var slot = request.Decision?.Slot ?? 0;
        if (slot != 0 || request.Client.Limits.TokensPerDay is not null)
        {
            // at once, not batched: the slot frees and the tokens count before the client's next request is decided
            slots.Release(slot);
            _ = CompleteAsync(request.Client.Name, slot, known.Bucket(request.Model), counts);
        }
        else
        {
            usage.Add(request.Client.Name, known.Bucket(request.Model), counts);
        }
    }

    private async Task CompleteAsync(string client, long slot, string model, UsageCounts counts)
    {
        try
        {
            await grains.GetGrain<IClientGrain>(client).CompleteAsync(slot, model, counts);
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

    [LoggerMessage(EventId = 3303, Level = LogLevel.Warning, Message = "The grain of client {Client} is not reachable; answered 503")]
    private static partial void LogGrainUnreachable(ILogger logger, Exception exception, string client);

    [LoggerMessage(EventId = 3304, Level = LogLevel.Warning, Message = "Could not report a finished request of client {Client}; its slot expires with its lease")]
    private static partial void LogCompleteFailed(ILogger logger, Exception exception, string client);
}
