namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Every answer the forwarder gives when no key served the request: what upstream said (its secrets masked), or the
/// gateway's own 400/429/503/504 with the message that says why and, where waiting helps, Retry-After. Each returns
/// the body bytes written.
/// </summary>
public sealed class ErrorAnswers(UpstreamKeySecrets keys, TimeProvider time)
{
    public async Task<long> ResourceConflictAsync(HttpContext context, UpstreamCall call, string conflict) =>
        await call.Surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
            $"This request names resources made with different upstream keys ({conflict}); a request can only use resources of one key. Re-create them in one place, or send them in separate requests.");

    public async Task<long> WaitHeaderInvalidAsync(HttpContext context, UpstreamCall call) =>
        await call.Surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
            $"{CapacityWaits.MaxWaitHeader} must be one whole number of milliseconds (0 for no wait; more than MAX_WAIT waits MAX_WAIT).");

    public async Task<long> OwnerKeyNotHeldAsync(HttpContext context, UpstreamCall call) =>
        await call.Surface.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable,
            $"This gateway process does not hold the upstream key that made {call.Resources.Describe()}; retry shortly.", TimeSpan.FromSeconds(1));

    /// <summary>The key that made the resources is invalid or gone: the resource must be re-created.</summary>
    public async Task<long> OwnerUnusableAsync(HttpContext context, UpstreamCall call) =>
        await call.Surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
            $"The upstream key that made {call.Resources.Describe()} is no longer usable (invalid or removed from the pool); only that key can see it. Re-create the resource.",
            googleStatus: "FAILED_PRECONDITION");

    public async Task<long> OwnerCoolingAsync(HttpContext context, UpstreamCall call, TimeSpan wait) =>
        await call.Surface.WriteErrorAsync(context, StatusCodes.Status429TooManyRequests,
            $"The upstream key that made {call.Resources.Describe()} is cooling down for model {call.Model}; only that key can see it. Retry in {Math.Ceiling(wait.TotalSeconds)} s.",
            wait);

    public async Task<long> TimedOutAsync(HttpContext context, UpstreamCall call) =>
        await call.Surface.WriteErrorAsync(context, StatusCodes.Status504GatewayTimeout,
            call.Streaming ? "Upstream did not answer in time (STREAM_IDLE_TIMEOUT)." : "Upstream did not answer in time (UPSTREAM_TIMEOUT).");

    /// <summary>The client's body failed to read while it streamed upstream: the client's mistake, so no other key is tried.</summary>
    public async Task<long> BodyBrokenAsync(HttpContext context, UpstreamCall call) =>
        await call.Surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
            "The request body could not be read while it was sent upstream (malformed chunked encoding, or shorter than its Content-Length): send it again.");

    /// <summary>The attempts ran out: on rate-limited keys say when to come back, as the all-cooling answer does.</summary>
    internal Task<long> AttemptsRanOutAsync(HttpContext context, UpstreamCall call, UpstreamFailure last) =>
        FailureAsync(context, call, last, RetryAfterOf(last));

    /// <summary>No key left to try: the last upstream answer if there was one, else why the pool had none.</summary>
    internal async Task<long> NoKeyAsync(HttpContext context, UpstreamCall call, LeasedKey lease, UpstreamFailure? last)
    {
        var retryAfter = lease.RetryAt is { } at ? at - time.GetUtcNow() : (TimeSpan?)null;
        if (last is not null)
        {
            // the keys ran out while retrying: the last upstream answer says more than a generic message
            return await FailureAsync(context, call, last, retryAfter ?? RetryAfterOf(last));
        }
        if (lease.AllInvalid)
        {
            return await call.Surface.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable,
                "Every upstream key in the pool is invalid. An operator must replace GEMINI_API_KEY.");
        }
        var message = retryAfter switch
        {
            { } wait when wait > TimeSpan.Zero => $"Every upstream key is cooling down for model {call.Model}; the first returns in {Math.Ceiling(wait.TotalSeconds)} s.",
            not null => $"Requests waiting in line for model {call.Model} take the keys that came back first; retry shortly.",
            null => $"No upstream key is usable for model {call.Model} right now.",
        };
        return await call.Surface.WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, message, retryAfter ?? TimeSpan.FromSeconds(1));
    }

    /// <summary>A failed attempt's answer: upstream's own body adapted to the surface, or the gateway's message.</summary>
    internal async Task<long> FailureAsync(HttpContext context, UpstreamCall call, UpstreamFailure failure, TimeSpan? retryAfter)
    {
        if (failure.Body is null)
        {
            return await call.Surface.WriteErrorAsync(context, failure.Status, failure.Classification.Reason, retryAfter);
        }
        var response = context.Response;
        response.StatusCode = failure.Status;
        response.ContentType = failure.ContentType ?? "application/json; charset=utf-8";
        foreach (var (name, value) in failure.Headers ?? [])
        {
            response.Headers[name] = value;
        }
        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = ApiSurface.RetryAfterSeconds(delay);
        }
        var body = call.Surface.AdaptUpstreamError(keys.MaskSecrets(failure.Body));
        await response.Body.WriteAsync(body);
        return body.Length;
    }

    /// <summary>When a client that got this failure as its answer may try again: a 429's delay, or the daily reset.</summary>
    private TimeSpan? RetryAfterOf(UpstreamFailure failure) => failure switch
    {
        { Status: not StatusCodes.Status429TooManyRequests } => null,
        { Classification.Outcome: UpstreamOutcome.DailyQuotaExhausted } => QuotaReset.NextPacificMidnight(time.GetUtcNow()) - time.GetUtcNow(),
        _ => failure.Classification.RetryDelay,
    };
}
