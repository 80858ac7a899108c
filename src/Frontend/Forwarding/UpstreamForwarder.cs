using System.Diagnostics;
using System.Net;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Observability;
using GeminiParty.Frontend.Resources;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// The one engine behind every upstream route: lease a key, send the bytes through YARP's <see cref="IHttpForwarder"/>,
/// relay the answer as it arrives, classify failures, report to the pool, and retry on another key while nothing has
/// reached the client yet.
/// </summary>
public sealed partial class UpstreamForwarder(
    IHttpForwarder forwarder,
    HttpMessageInvoker upstream,
    KeyChooser chooser,
    KnownModels knownModels,
    UpstreamKeySecrets keys,
    IOptions<FrontendOptions> options,
    TimeProvider time,
    FrontendMetrics metrics,
    AttemptOutcomes outcomes,
    RelayCompletion relays,
    RequestLog requestLog,
    ClientAdmission clients,
    ResourceAffinity affinity,
    ErrorAnswers answers,
    ILogger<UpstreamForwarder> logger)
{
    private static readonly TimeSpan TransientBackoff = TimeSpan.FromMilliseconds(100);

    private readonly FrontendOptions _options = options.Value;

    private readonly Uri _baseUri = options.Value.BaseUri;

    private readonly string _destinationPrefix = options.Value.BaseUri.ToString();

    /// <summary>
    /// HTTP/1.1 or higher toward upstream, as before YARP; its activity timeout is the idle limit of a stream, and for
    /// an answer that is not a stream the whole call's limit (also enforced in total, see <see cref="AttemptAsync"/>).
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

    public async Task ForwardAsync(HttpContext context, UpstreamCall call)
    {
        var aborted = context.RequestAborted;
        var started = Stopwatch.GetTimestamp();
        if (!(await clients.AdmitAsync(context, call.Surface, call.Model)).Admitted)
        {
            Complete(context, call, null, 0, started, 0); // refused by the client's limits: answered, nothing upstream
            return;
        }
        var timing = context.Features.Get<ServerTiming>();
        var transformer = TransformerFor(call, timing);
        var chained = chooser.IsChained(call);
        TriedKeys? tried = null;
        UpstreamFailure? last = null;
        var attempts = 0;
        long relayed = 0;
        KeyAlias? alias = null;
        var owner = call.Resources.Fingerprint;
        if (call.Resources.Conflict is { } conflict)
        {
            relayed = await answers.ResourceConflictAsync(context, call, conflict);
            Complete(context, call, alias, attempts, started, relayed);
            return;
        }
        // a streamed body cannot be sent twice; resources the gateway has no record of get one attempt, and Google's answer
        var maxAttempts = call.StreamRequestBody || (call.Resources.Names.Count > 0 && owner is null) ? 1 : _options.MaxAttempts;
        DateTimeOffset? waitDeadline = null;
        while (attempts < maxAttempts)
        {
            if (alias is not null)
            {
                tried = tried?.And(alias.Index) ?? new TriedKeys([alias.Index]); // only a retry needs the keys tried
            }
            LeasedKey lease;
            try
            {
                if (owner is not null)
                {
                    // only the key that made the resources can see them: it, or an answer that says why not
                    if (await chooser.OwnerAsync(context, call, owner, aborted) is not { } ownerKey)
                    {
                        Complete(context, call, alias, attempts, started, 0);
                        return;
                    }
                    lease = ownerKey;
                }
                else
                {
                    lease = await chooser.NextAsync(call.Model, tried, last?.Classification.Outcome == UpstreamOutcome.Transient, aborted);
                }
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                ClientLeft(context, call, alias, attempts, started, relayed); // the client left while its key was being leased
                return;
            }
            catch (Exception ex) when (ClusterUnreachable.Is(ex))
            {
                await PoolUnreachableAsync(context, call, alias, attempts, started, ex);
                return;
            }
            if (lease.Key is null && lease.RetryAt is { } retryAt && owner is null)
            {
                // every key cools for this model (or others wait for it): wait in line if a key comes back within the wait
                waitDeadline ??= chooser.WaitDeadline(context.Request);
                try
                {
                    lease = await chooser.WaitInLineAsync(call.Model, retryAt, waitDeadline.Value, timing, aborted);
                }
                catch (OperationCanceledException) when (aborted.IsCancellationRequested)
                {
                    ClientLeft(context, call, alias, attempts, started, 0); // the client left while waiting: its place went with it
                    return;
                }
                catch (Exception ex) when (ClusterUnreachable.Is(ex))
                {
                    await PoolUnreachableAsync(context, call, alias, attempts, started, ex);
                    return;
                }
                if (lease.Key is not null)
                {
                    tried = null; // the keys that failed this request may be the ones back now
                }
            }
            if (lease.Key is null && owner is null && chooser.FallBack(call, lease, context.Request) is { } next)
            {
                // not back within the wait: the next model of the chain, with no attempt spent
                call = next;
                transformer = TransformerFor(call, timing);
                tried = null;
                alias = null;
                last = null;
                continue;
            }
            if (lease.Key is null)
            {
                relayed = await answers.NoKeyAsync(context, call, lease, last);
                Complete(context, call, alias, attempts, started, relayed);
                return;
            }
            alias = lease.Key;
            if (!keys.TryGetSecret(alias, out var secret))
            {
                LogKeyNotHeld(logger, alias.Index, alias.Fingerprint);
                if (owner is not null)
                {
                    relayed = await answers.OwnerKeyNotHeldAsync(context, call);
                    Complete(context, call, alias, attempts, started, relayed);
                    return;
                }
                continue; // the pool knows a key this process was not given (rolling update): try another, no attempt spent
            }
            if (last is not null)
            {
                metrics.Retried(call.Model, last.Classification.Outcome);
            }
            attempts++;

            transformer.Begin(alias, secret);
            if (chained)
            {
                context.Response.Headers[ModelFallbacks.ServedModelHeader] = call.Model; // set again: a failed attempt clears the headers
            }
            (var result, relayed) = await AttemptAsync(context, call, transformer, alias, aborted);
            if (result is null)
            {
                Complete(context, call, alias, attempts, started, relayed);
                return;
            }
            last = result;
            if (result.Classification.Outcome == UpstreamOutcome.Transient && attempts < _options.MaxAttempts)
            {
                try
                {
                    await Task.Delay(TransientBackoff * attempts, time, aborted);
                }
                catch (OperationCanceledException) when (aborted.IsCancellationRequested)
                {
                    ClientLeft(context, call, alias, attempts, started, 0); // the client left during the backoff
                    return;
                }
            }
        }
        relayed = await answers.AttemptsRanOutAsync(context, call, last!);
        Complete(context, call, alias, attempts, started, relayed);
    }

    private AttemptTransformer TransformerFor(UpstreamCall call, ServerTiming? timing) =>
        new(call, new Uri(_baseUri, call.PathAndQuery), timing, time, _options.StreamKeepAlive, _options.StreamIdleTimeout, affinity);

    /// <summary>No silo reachable (cluster starting, or every silo gone): nothing was sent upstream, the client may retry.</summary>
    private async Task PoolUnreachableAsync(HttpContext context, UpstreamCall call, KeyAlias? alias, int attempts, long started, Exception ex)
    {
        // no silo reachable (cluster starting, or every silo gone): nothing was sent upstream, the client may retry
        LogPoolUnreachable(logger, ex, ex.GetType().Name);
        var relayed = await ClusterUnreachable.AnswerAsync(context, call.Surface, "The key pool");
        Complete(context, call, alias, attempts, started, relayed);
    }

    /// <summary>The request's one log line and its metrics.</summary>
    private void Complete(HttpContext context, UpstreamCall call, KeyAlias? alias, int attempts, long started, long responseBytes)
    {
        var status = context.Response.StatusCode;
        var client = ClientRequest.Of(context);
        if (client is not null)
        {
            clients.Complete(client, status);
        }
        var clientName = client?.Client.Name ?? ClientPolicy.UnnamedName;
        metrics.RequestCompleted(call.Surface.Name, call.Model, status, started, clientName);
        requestLog.Completed(clientName, call.Surface.Name, call.Model, call.Streaming, alias?.Index ?? -1, attempts, status,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds, call.Body.Length, responseBytes);
    }

    /// <summary>The client went away before its answer started: logged as 499 (client closed request), as nginx does.</summary>
    private void ClientLeft(HttpContext context, UpstreamCall call, KeyAlias? alias, int attempts, long started, long responseBytes)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
        }
        Complete(context, call, alias, attempts, started, responseBytes);
    }

    /// <summary>
    /// One attempt with one key. Returns a null failure when the client has its answer, or the retryable failure; and
    /// the body bytes the client got.
    /// </summary>
    private async Task<(UpstreamFailure? Failure, long Bytes)> AttemptAsync(HttpContext context, UpstreamCall call, AttemptTransformer transformer,
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
            outcomes.Record(alias, call.Model, UpstreamOutcome.ClientError, "client disconnected");
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
        await outcomes.FailedAsync(alias, call.Model, status, classification);
        if (!classification.Outcome.IsRetryable())
        {
            return (null, await answers.FailureAsync(context, call, failure, retryAfter: null));
        }
        return (failure, 0);
    }

    /// <summary>Upstream sent no answer: a timeout is answered (504), anything else is retried on another key.</summary>
    private async Task<(UpstreamFailure? Failure, long Bytes)> NoAnswerAsync(HttpContext context, UpstreamCall call, KeyAlias alias,
        ForwarderError error, CancellationTokenSource? deadline)
    {
        AttemptTransformer.ResetResponse(context);
        if (error == ForwarderError.RequestTimedOut || deadline?.IsCancellationRequested == true)
        {
            outcomes.Record(alias, call.Model, UpstreamOutcome.Timeout, "gateway timeout");
            return (null, await answers.TimedOutAsync(context, call));
        }
        return (outcomes.Transient(alias, call.Model, $"connection failed: {error}"), 0);
    }

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "The key pool is not reachable ({Error}); answered 503")]
    private static partial void LogPoolUnreachable(ILogger logger, Exception exception, string error);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "The pool leased key #{KeyIndex} ({Fingerprint}) that this process does not hold; check GEMINI_API_KEY matches across processes")]
    private static partial void LogKeyNotHeld(ILogger logger, int keyIndex, string fingerprint);
}
