using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Observability;
using Yarp.ReverseProxy.Forwarder;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// After YARP copied (or began to copy) a success: reports it with its usage, or ends a stream that broke off (a
/// closing error event, or an aborted connection so a truncated answer does not look complete).
/// </summary>
public sealed partial class RelayCompletion(
    AttemptOutcomes outcomes,
    FrontendMetrics metrics,
    ILogger<RelayCompletion> logger)
{
    /// <summary>
    /// A success whose body failed before its first byte reached the client is still retryable: it comes back as the
    /// failure. Returns the bytes the gateway wrote itself (a stream's closing error event).
    /// </summary>
    internal async Task<(UpstreamFailure? Failure, long Written)> CompleteAsync(HttpContext context, UpstreamCall call, KeyAlias alias,
        ForwarderError error, RelayedStream? body, CancellationTokenSource? deadline)
    {
        if (context.RequestAborted.IsCancellationRequested || error == ForwarderError.ResponseBodyClient)
        {
            outcomes.Record(alias, call.Model, UpstreamOutcome.Success, "client left during the answer"); // the key worked
            return (null, 0);
        }
        if (error != ForwarderError.None)
        {
            if (!context.Response.HasStarted)
            {
                AttemptTransformer.ResetResponse(context);
                if (body?.Empty == true)
                {
                    metrics.EmptyAnswer(call.Model); // Gemini's 200 without a candidate: another key usually answers
                    return (outcomes.Transient(alias, call.Model, "answered with no candidate"), 0);
                }
                return (outcomes.Transient(alias, call.Model, "upstream answer broke off before its first byte"), 0);
            }
            LogStreamBroken(logger, context.Features.Get<IForwarderErrorFeature>()?.Exception, alias.Index, call.Model, error.ToString());
            outcomes.Record(alias, call.Model, UpstreamOutcome.Transient, "stream broke off");
            return (null, 0);
        }
        if (body?.Broken is { } broken)
        {
            var reason = deadline?.IsCancellationRequested == true ? "UPSTREAM_TIMEOUT" : broken.GetType().Name;
            LogStreamBroken(logger, broken, alias.Index, call.Model, reason);
            outcomes.Record(alias, call.Model, UpstreamOutcome.Transient, "stream broke off");
            if (context.Response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true)
            {
                var closing = call.Surface.StreamFailureEvent("The upstream stream broke off before it finished.", call.Interaction);
                await context.Response.Body.WriteAsync(closing, context.RequestAborted);
                return (null, closing.Length);
            }
            context.Abort(); // a truncated answer must not look complete
            return (null, 0);
        }
        var request = ClientRequest.Of(context);
        request?.Used(body?.Usage);
        outcomes.Record(alias, call.Model, UpstreamOutcome.Success, null, body?.Usage, request?.Client.Name);
        return (null, 0);
    }

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Stream from key #{KeyIndex} for {Model} broke off after the first byte ({Error})")]
    private static partial void LogStreamBroken(ILogger logger, Exception? exception, int keyIndex, string model, string error);
}
