using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Observability;
using GeminiParty.Frontend.Resources;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// One Live API session through the gateway: accept the client's WebSocket, read its setup message, open the session
/// upstream with a key leased for the setup's model (another key, invisibly, when upstream refuses one), then relay
/// messages both ways until either side closes. The session counts as one request of its key and of its client, with
/// the tokens its <c>usageMetadata</c> messages report; a client with limits is admitted for the setup's model before
/// any key is leased, and holds one of its concurrency slots until the session ends. A setup that names a resource (a
/// custom voice) opens on the key that made it, as an HTTP request that names one does.
/// </summary>
/// <remarks>
/// Relayed message by message rather than tunnelled as bytes after the upgrade (as YARP does with WebSockets): the key
/// has to be chosen for the model named in the first message, a refused key retried before the client has seen
/// anything, and the usage read from server messages.
/// </remarks>
public sealed partial class LiveProxy(
    LiveUpstream upstream,
    KeyLeases leases,
    KeyChooser chooser,
    ResourceAffinity affinity,
    KnownModels knownModels,
    UpstreamKeySecrets keys,
    IOptions<FrontendOptions> options,
    TimeProvider time,
    FrontendMetrics metrics,
    AttemptOutcomes outcomes,
    RequestLog requestLog,
    LiveSessions sessions,
    ClientAdmission clients,
    LiveRevocations revocations,
    IHostApplicationLifetime lifetime,
    ILogger<LiveProxy> logger)
{
    /// <summary>The route name in logs and metrics.</summary>
    public const string Route = "live";

    private const int BufferSize = 16 * 1024;
    private static readonly TimeSpan TransientBackoff = TimeSpan.FromMilliseconds(100);

    private readonly FrontendOptions _options = options.Value;

    public async Task RunAsync(HttpContext context, LiveRpc rpc)
    {
        var started = Stopwatch.GetTimestamp();
        var policy = ClientPolicy.Of(context);
        var aborted = context.RequestAborted;
        using var client = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { DangerousEnableCompression = false });
        LiveSetup? setup;
        string? problem;
        try
        {
            (setup, problem) = await LiveSetup.ReadAsync(client, _options.MaxRequestBodyBytes, aborted);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            return; // the client left before its setup: nothing was leased or sent upstream
        }
        if (setup is null)
        {
            if (problem is not null)
            {
                await CloseAsync(client, WebSocketCloseStatus.InvalidPayloadData, problem);
                Complete(context.TraceIdentifier, rpc, policy.Name, KnownModels.Unknown, null, 0, WebSocketCloseStatus.InvalidPayloadData, started, 0, 0);
            }
            else if (client.State == WebSocketState.CloseReceived)
            {
                await CloseAsync(client, client.CloseStatus ?? WebSocketCloseStatus.NormalClosure, ""); // closed before any setup: answer it
            }
            return;
        }

        var admission = await clients.DecideAsync(policy, setup.Model);
        if (admission.Refused is { } refused)
        {
            // after the upgrade a refusal can only be a close: 1008 for the allowlist, 1013 (try again later) for a limit
            var close = refused.Status == StatusCodes.Status403Forbidden ? WebSocketCloseStatus.PolicyViolation : LiveCloseClassifier.TryAgainLater;
            await CloseAsync(client, close, refused.Message);
            Complete(context.TraceIdentifier, rpc, policy.Name, setup.Model, null, 0, close, started, setup.Message.Length, 0);
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var answered = StatusCodes.Status502BadGateway; // what the client's usage counts the session as, as an HTTP status
        try
        {
            var (attempt, alias, attempts, refusedWith) = await OpenAsync(context, client, rpc, setup, policy.Name, buffer, started);
            if (attempt?.Upstream is not { } socket)
            {
                answered = refusedWith;
                return;
            }
            answered = StatusCodes.Status200OK;
            using (attempt)
            {
                await RelayAsync(context.TraceIdentifier, client, socket, rpc, setup, admission, alias!, attempts, attempt.First, buffer, started);
            }
        }
        finally
        {
            clients.Complete(admission, answered); // however the session ended: its slot is freed and its tokens counted
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Leases keys for the setup's model until one opens the session, as an HTTP request retries: a refusal is
    /// classified and reported like an HTTP answer, and the next key is tried, up to DEFAULT_MAX_RETRIES, before the
    /// client has received anything. A setup that names resources opens only on the key that made them (waiting for it
    /// within MAX_AFFINITY_WAIT), or, when the gateway has no record of them, gets one attempt. When no key opens it, the client is closed with the reason and null returned,
    /// with the HTTP status the session counts as in its client's usage (429 when no key was usable, 499 when the
    /// client left, 502 when upstream refused).
    /// </summary>
    private async Task<(LiveAttempt? Attempt, KeyAlias? Key, int Attempts, int Refused)> OpenAsync(
        HttpContext context, WebSocket client, LiveRpc rpc, LiveSetup setup, string clientName, byte[] buffer, long started)
    {
        var aborted = context.RequestAborted;
        var model = setup.Model;
        TriedKeys? tried = null;
        KeyAlias? alias = null;
        LiveAttempt? last = null;
        var attempts = 0;
        List<AttemptReport>? transients = null; // reported once the session opened or failed: whose they are depends on it
        var opened = false;
        try
        {
            var names = ResourceNames.InBody(setup.Message.Span);
            ResourceOwner resources;
            try
            {
                resources = await affinity.ResolveAsync(names);
            }
            catch (Exception ex) when (ClusterUnreachable.Is(ex))
            {
                LogPoolUnreachable(logger, ex);
                return await FailAsync(LiveCloseClassifier.TryAgainLater, "The gateway's resource records are not reachable right now; retry shortly.");
            }
            if (resources.Conflict is not null)
            {
                return await FailAsync(WebSocketCloseStatus.PolicyViolation, "The setup names resources made with different upstream keys; use one key's.");
            }
            // a resource with no record (made elsewhere, or expired) gets one attempt, as over HTTP: other keys see it no better
            var maxAttempts = names.Count > 0 && resources.Fingerprint is null ? 1 : _options.MaxAttempts;
            while (attempts < maxAttempts)
            {
                if (alias is not null)
                {
                    tried = tried?.And(alias.Index) ?? new TriedKeys([alias.Index]);
                }
                LeasedKey lease;
                try
                {
                    if (resources.Fingerprint is { } owner)
                    {
                        var owned = await chooser.LeaseOwnerAsync(model, owner, aborted);
                        if (owned.Key is not { } ownerKey)
                        {
                            return owned.CoolingFor is { } wait
                                ? await FailAsync(LiveCloseClassifier.TryAgainLater,
                                    $"The key that made {resources.Names[0]} cools for this model; retry in {Math.Ceiling(wait.TotalSeconds)} s.")
                                : await FailAsync(WebSocketCloseStatus.PolicyViolation,
                                    $"The key that made {resources.Names[0]} is no longer usable; re-create it.");
                        }
                        lease = ownerKey;
                    }
                    else
                    {
                        lease = await leases.NextAsync(model, tried, aborted);
                    }
                }
                catch (Exception ex) when (ClusterUnreachable.Is(ex))
                {
                    LogPoolUnreachable(logger, ex);
                    return await FailAsync(LiveCloseClassifier.TryAgainLater, "The key pool is not reachable right now; retry shortly.");
                }
                if (lease.Key is null)
                {
                    if (last is not null)
                    {
                        break; // the keys ran out while retrying: the last refusal says more
                    }
                    return lease.AllInvalid
                        ? await FailAsync(WebSocketCloseStatus.InternalServerError, "Every upstream key in the pool is invalid.")
                        : await FailAsync(LiveCloseClassifier.TryAgainLater, lease.RetryAt is { } at
                            ? $"Every upstream key is cooling down for this model; the first returns in {Math.Ceiling(Math.Max(0, (at - time.GetUtcNow()).TotalSeconds))} s."
                            : "No upstream key is usable for this model right now.");
                }
                alias = lease.Key;
                if (!keys.TryGetSecret(alias, out var secret))
                {
                    LogKeyNotHeld(logger, alias.Index, alias.Fingerprint);
                    if (resources.Fingerprint is not null)
                    {
                        return await FailAsync(LiveCloseClassifier.TryAgainLater, $"This gateway process does not hold the key that made {resources.Names[0]}; retry shortly.");
                    }
                    continue; // the pool knows a key this process was not given (rolling update): no attempt spent
                }
                if (last?.Refusal is { } previous)
                {
                    metrics.Retried(model, previous.Outcome);
                }
                attempts++;
                last?.Dispose();
                var sending = Stopwatch.GetTimestamp();
                last = await upstream.OpenAsync(rpc, setup, names.Count > 0, secret, context.Request, buffer, aborted);
                // an opened session counts as a 2xx answer, an accept-then-close as no answer (status 0)
                metrics.UpstreamAnswered(model, last.Upstream is not null ? StatusCodes.Status200OK : last.HandshakeStatus, sending);
                if (last.Refusal is not { } refusal)
                {
                    knownModels.Add(model); // upstream serves the model: its name may label metrics now
                    opened = true;
                    return (last, alias, attempts, StatusCodes.Status200OK);
                }
                if (refusal.Outcome is UpstreamOutcome.RateLimited or UpstreamOutcome.DailyQuotaExhausted)
                {
                    knownModels.Add(model);
                }
                // told to the pool as an HTTP answer is: a refusal that cools or invalidates the key withdraws it at once
                await outcomes.FailedAsync(alias, model, last.HandshakeStatus, refusal, holdTransient: true);
                if (refusal.Outcome == UpstreamOutcome.Transient)
                {
                    (transients ??= []).Add(new AttemptReport(alias, model, UpstreamOutcome.Transient, null, refusal.Reason));
                }
                if (!refusal.Outcome.IsRetryable())
                {
                    LogSetupRefused(logger, alias.Index, model, refusal.Reason);
                    break; // the setup itself was refused (an unknown model, a bad field): the client hears why
                }
                if (refusal.Outcome == UpstreamOutcome.Transient && attempts < maxAttempts)
                {
                    await Task.Delay(TransientBackoff * attempts, time, aborted);
                }
            }
            return await FailWithAsync(last!);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            last?.Dispose();
            Complete(context.TraceIdentifier, rpc, clientName, model, alias, attempts, null, started, setup.Message.Length, 0); // the client left while its session opened
            return (null, alias, attempts, StatusCodes.Status499ClientClosedRequest);
        }
        finally
        {
            if (transients is not null)
            {
                outcomes.ReportTransients(transients, served: opened); // as an HTTP request's: another key's success makes them the key's
            }
        }

        async Task<(LiveAttempt?, KeyAlias?, int, int)> FailAsync(WebSocketCloseStatus status, string reason)
        {
            await CloseAsync(client, status, reason);
            Complete(context.TraceIdentifier, rpc, clientName, model, alias, attempts, status, started, setup.Message.Length, 0);
            return (null, alias, attempts, status == LiveCloseClassifier.TryAgainLater ? StatusCodes.Status429TooManyRequests : StatusCodes.Status502BadGateway);
        }

        Task<(LiveAttempt?, KeyAlias?, int, int)> FailWithAsync(LiveAttempt refused)
        {
            var refusal = refused.Refusal!.Value;
            // upstream's own close reaches the client as it was; a refused handshake becomes a close that says what happened
            return refused.CloseStatus is { } status && status != WebSocketCloseStatus.Empty
                ? FailAsync(status, refused.CloseDescription ?? refusal.Reason)
                : FailAsync(LiveCloseClassifier.ClientCloseFor(refusal.Outcome), $"Upstream refused the session: {refusal.Reason}.");
        }
    }

    private async Task RelayAsync(string requestId, WebSocket client, ClientWebSocket socket, LiveRpc rpc, LiveSetup setup, ClientRequest admission,
        KeyAlias alias, int attempts, ValueWebSocketReceiveResult first, byte[] buffer, long started)
    {
        using var usage = new LiveUsage();
        var relay = new LiveRelay(client, socket, keys, usage);
        sessions.Opened(alias);
        var revocation = revocations.Watch(admission.Client, setup.Model);
        try
        {
            await relay.RunAsync(buffer, first, lifetime.ApplicationStopping, revocation?.Token ?? CancellationToken.None);
        }
        finally
        {
            revocations.Forget(revocation);
            sessions.Closed(alias);
            var tokens = usage.Total;
            admission.Used(tokens);
            outcomes.Record(alias, setup.Model, UpstreamOutcome.Success, $"live session ended by {relay.EndedBy}", tokens, admission.Client.Name);
            Complete(requestId, rpc, admission.Client.Name, setup.Model, alias, attempts, relay.ClientCloseStatus, started, setup.Message.Length + relay.ClientBytes, relay.UpstreamBytes);
        }
    }

    /// <summary>A session its client's limits refused before the upgrade (answered with an HTTP error): logged and counted as a request.</summary>
    public void RefusedBeforeUpgrade(HttpContext context, long started)
    {
        var status = context.Response.StatusCode;
        var client = ClientPolicy.Of(context).Name;
        metrics.RequestCompleted(Route, KnownModels.Unknown, status, started, client);
        requestLog.Completed(context.TraceIdentifier, client, Route, KnownModels.Unknown, streaming: true, -1, 0, status, Stopwatch.GetElapsedTime(started).TotalMilliseconds, 0, 0);
    }

    /// <summary>
    /// The session's one log line and its metrics. The status is the WebSocket close code the client got or sent
    /// (1006 when its connection broke off without one).
    /// </summary>
    private void Complete(string requestId, LiveRpc rpc, string client, string model, KeyAlias? alias, int attempts, WebSocketCloseStatus? status, long started, long requestBytes, long responseBytes)
    {
        var code = status is { } s ? (int)s : 1006;
        metrics.RequestCompleted(Route, model, code, started, client);
        requestLog.Completed(requestId, client, Route, model, streaming: true, alias?.Index ?? -1, attempts, code,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds, (int)Math.Min(int.MaxValue, requestBytes), responseBytes);
        LogSessionEnded(logger, rpc.Method, model, alias?.Index ?? -1, code);
    }

    private static async Task CloseAsync(WebSocket client, WebSocketCloseStatus status, string reason)
    {
        try
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.CloseAsync(status, LiveCloseReason.Fit(reason), quick.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // the client is gone already
        }
    }

    [LoggerMessage(EventId = 3501, Level = LogLevel.Warning, Message = "The key pool is not reachable; closed a Live session with 1013")]
    private static partial void LogPoolUnreachable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Information, Message = "Key #{KeyIndex} refused a Live session for {Model}: {Reason}")]
    private static partial void LogSetupRefused(ILogger logger, int keyIndex, string model, string reason);

    [LoggerMessage(EventId = 3503, Level = LogLevel.Warning, Message = "The pool leased key #{KeyIndex} ({Fingerprint}) that this process does not hold; check GEMINI_API_KEY matches across processes")]
    private static partial void LogKeyNotHeld(ILogger logger, int keyIndex, string fingerprint);

    [LoggerMessage(EventId = 3505, Level = LogLevel.Debug, Message = "Live {Method} session for {Model} on key #{KeyIndex} ended with {CloseCode}")]
    private static partial void LogSessionEnded(ILogger logger, string method, string model, int keyIndex, int closeCode);
}
