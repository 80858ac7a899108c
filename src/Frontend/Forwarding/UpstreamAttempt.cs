using System.Diagnostics;
using System.Net;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Observability;
using GeminiParty.Frontend.Resources;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// One attempt with one key: send the request through YARP's <see cref="IHttpForwarder"/>, relay a success as it
/// arrives (<see cref="RelayCompletion"/>), and classify and record a failure (<see cref="AttemptOutcomes"/>), answering
/// the client when it is final. <see cref="UpstreamForwarder"/> runs attempts until one is.
/// </summary>
public sealed class UpstreamAttempt(
    IHttpForwarder forwarder,
    HttpMessageInvoker upstream,
    KnownModels knownModels,
    IOptions<FrontendOptions> options,
    TimeProvider time,
    FrontendMetrics metrics,
    AttemptOutcomes outcomes,
    RelayCompletion relays,
    ResourceAffinity affinity,
    ErrorAnswers answers)
{
    private readonly FrontendOptions _options = options.Value;

    private readonly Uri _baseUri = options.Value.BaseUri; // the option builds a new Uri each time it is read

    private readonly string _destinationPrefix = options.Value.BaseUri.ToString();

    /// <summary>
    /// HTTP/1.1 or higher toward upstream, as before YARP; its activity timeout is the idle limit of a stream, and for
    /// an answer that is not a stream the whole call's limit (also enforced in total, see <see cref="SendAsync"/>).
    /// </summary>
    private readonly ForwarderRequestConfig _streamConfig = new()
    {
        ActivityTimeout = options.Value.StreamIdleTimeout,
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
    };

    private readonly ForwarderRequestConfig _callConfig = new()
    {
        ActivityTimeout = options.Value.UpstreamTimeout,
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
    };

    /// <summary>The transformer of a call's attempts (one per call: each attempt begins it again with its key).</summary>
    public AttemptTransformer TransformerFor(UpstreamCall call, ServerTiming? timing) =>
        new(call, new Uri(_baseUri, call.PathAndQuery), timing, time, _options.StreamKeepAlive, _options.StreamIdleTimeout, affinity);

    /// <summary>
    /// Sends the call with the key <paramref name="transformer"/> began with. Returns a null failure when the client
    /// has its answer, or the retryable failure; and the body bytes the client got.
    /// </summary>
    internal async Task<(UpstreamFailure? Failure, long Bytes)> SendAsync(HttpContext context, UpstreamCall call, AttemptTransformer transformer,
        KeyAlias alias, CancellationToken aborted)
    {
        // YARP's activity timeout is an idle limit; an answer that is not a stream also has a total one
        using var deadline = call.Streaming ? null : new CancellationTokenSource(_options.UpstreamTimeout, time);
        transformer.ReplayBody(context.Request);
        var sending = Stopwatch.GetTimestamp();
        var error = await forwarder.SendAsync(context, _destinationPrefix, upstream,
            call.Streaming ? _streamConfig : _callConfig, transformer, deadline?.Token ?? CancellationToken.None);
        var status = transformer.Status;
        if (status == 0)
        {
            context.Features.Get<ServerTiming>()?.AddUpstream(sending, Stopwatch.GetTimestamp()); // the wait for no answer counts too
        }
        if (status is >= 200 and < 300 or 429)
        {
            knownModels.Add(call.Model); // upstream serves the model, or meters it: its name may label metrics now
        }
        metrics.UpstreamAnswered(call.Model, status, sending, transformer.AnsweredAt); // until the headers, as before YARP

        if (transformer.Relay is { } relay)
        {
            var (relayFailure, written) = await relays.CompleteAsync(context, call, alias, error, relay.Body, deadline);
            return (relayFailure, (relay.Body?.Bytes ?? 0) + written);
        }
        if (aborted.IsCancellationRequested)
        {
            outcomes.Record(alias, call.Model, UpstreamOutcome.ClientClosed, "client closed");
            return (null, 0);
        }
        if (status == 0)
        {
            return await NoAnswerAsync(context, call, alias, error, deadline);
        }
        if (transformer.ErrorBodyBroken)
        {
            return (outcomes.Transient(alias, call.Model, "error body broke off"), 0);
        }

        var body = transformer.ErrorBody ?? [];
        var classification = UpstreamErrorClassifier.Classify(status, body, resourceInPlay: call.Resources.Names.Count > 0);
        var failure = new UpstreamFailure(status, transformer.ErrorContentType, body, classification, transformer.ErrorHeaders);
        await outcomes.FailedAsync(alias, call.Model, status, classification, holdTransient: true); // the forwarder reports it at the end
        if (!classification.Outcome.IsRetryable())
        {
            return (null, await answers.FailureAsync(context, call, failure, retryAfter: null));
        }
        return (failure, 0);
    }

    /// <summary>
    /// Upstream sent no answer: a timeout is answered (504), a body the client broke while it streamed upstream (400),
    /// anything else is retried on another key.
    /// </summary>
    private async Task<(UpstreamFailure? Failure, long Bytes)> NoAnswerAsync(HttpContext context, UpstreamCall call, KeyAlias alias,
        ForwarderError error, CancellationTokenSource? deadline)
    {
        AttemptTransformer.ResetResponse(context);
        if (error == ForwarderError.RequestTimedOut || deadline?.IsCancellationRequested == true)
        {
            outcomes.Record(alias, call.Model, UpstreamOutcome.Timeout, "gateway timeout");
            return (null, await answers.TimedOutAsync(context, call));
        }
        if (error == ForwarderError.RequestBodyClient)
        {
            // a malformed chunked body, or one shorter than announced, of a call not buffered first (an upload's chunk)
            outcomes.Record(alias, call.Model, UpstreamOutcome.ClientError, "request body broken");
            return (null, await answers.BodyBrokenAsync(context, call));
        }
        return (outcomes.Transient(alias, call.Model, $"connection failed: {error}"), 0);
    }
}
