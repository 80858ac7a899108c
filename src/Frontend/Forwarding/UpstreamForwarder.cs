using System.Diagnostics;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Observability;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// The one engine behind every upstream route: choose a key (<see cref="KeyChooser"/>), send one attempt with it
/// (<see cref="UpstreamAttempt"/>), and retry on another key while nothing has reached the client yet; answer the
/// client when no key can (<see cref="ErrorAnswers"/>).
/// </summary>
public sealed partial class UpstreamForwarder(
    KeyChooser chooser,
    UpstreamAttempt attempt,
    AttemptOutcomes outcomes,
    UpstreamKeySecrets keys,
    IOptions<FrontendOptions> options,
    TimeProvider time,
    FrontendMetrics metrics,
    RequestLog requestLog,
    ClientAdmission clients,
    ErrorAnswers answers,
    ILogger<UpstreamForwarder> logger)
{
    private static readonly TimeSpan TransientBackoff = TimeSpan.FromMilliseconds(100);

    private readonly FrontendOptions _options = options.Value;

    public async Task ForwardAsync(HttpContext context, UpstreamCall call)
    {
        var aborted = context.RequestAborted;
        var started = Stopwatch.GetTimestamp();
        if (!CapacityWaits.TryReadAsked(context.Request, out _))
        {
            Complete(context, call, null, 0, started, await answers.WaitHeaderInvalidAsync(context, call)); // before the client's limits count it
            return;
        }
        if (!(await clients.AdmitAsync(context, call.Surface, call.Model)).Admitted)
        {
            Complete(context, call, null, 0, started, 0); // refused by the client's limits: answered, nothing upstream
            return;
        }
        List<AttemptReport>? transients = null; // reported when the request ends: whether another key served it says whose they are
        try
        {
            var timing = context.Features.Get<ServerTiming>();
            var transformer = attempt.TransformerFor(call, timing);
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
            var modelAttempts = 0; // a model the chain falls back to gets attempts of its own

            void MoveTo(UpstreamCall next)
            {
                call = next;
                transformer = attempt.TransformerFor(call, timing);
                tried = null;
                alias = null;
                last = null;
                modelAttempts = 0;
            }

            while (true)
            {
                if (modelAttempts >= maxAttempts)
                {
                    // every attempt met a rate limit or a spent quota: the model is as dry as when the pool says so up front
                    if (last?.Classification.Outcome is UpstreamOutcome.RateLimited or UpstreamOutcome.DailyQuotaExhausted && owner is null
                        && chooser.FallBack(call, default, context.Request) is { } after)
                    {
                        MoveTo(after);
                        continue;
                    }
                    break;
                }
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
                    MoveTo(next); // not back within the wait: the next model of the chain, with no attempt spent
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
                modelAttempts++;

                transformer.Begin(alias, secret);
                if (chained)
                {
                    context.Response.Headers[ModelFallbacks.ServedModelHeader] = call.Model; // set again: a failed attempt clears the headers
                }
                (var result, relayed) = await attempt.SendAsync(context, call, transformer, alias, aborted);
                if (result?.Classification.Outcome == UpstreamOutcome.Transient)
                {
                    (transients ??= []).Add(new AttemptReport(alias, call.Model, UpstreamOutcome.Transient, null, result.Classification.Reason));
                }
                if (result is null && aborted.IsCancellationRequested)
                {
                    ClientLeft(context, call, alias, attempts, started, relayed); // not YARP's 400: the client closed, nothing was wrong with it
                    return;
                }
                if (result is null)
                {
                    Complete(context, call, alias, attempts, started, relayed);
                    return;
                }
                last = result;
                if (result.Classification.Outcome == UpstreamOutcome.Transient && modelAttempts < maxAttempts)
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
        finally
        {
            if (transients is not null)
            {
                outcomes.ReportTransients(transients, served: context.Response.StatusCode is >= 200 and < 300);
            }
        }
    }

    /// <summary>No silo reachable (cluster starting, or every silo gone): nothing was sent upstream, the client may retry.</summary>
    private async Task PoolUnreachableAsync(HttpContext context, UpstreamCall call, KeyAlias? alias, int attempts, long started, Exception ex)
    {
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
        requestLog.Completed(context.TraceIdentifier, clientName, call.Surface.Name, call.Model, call.Streaming, alias?.Index ?? -1, attempts, status,
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

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "The key pool is not reachable ({Error}); answered 503")]
    private static partial void LogPoolUnreachable(ILogger logger, Exception exception, string error);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "The pool leased key #{KeyIndex} ({Fingerprint}) that this process does not hold; check GEMINI_API_KEY matches across processes")]
    private static partial void LogKeyNotHeld(ILogger logger, int keyIndex, string fingerprint);
}
