using System.Buffers;
using System.Diagnostics;
using System.Net;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Observability;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// The one engine behind every upstream route: lease a key, send the bytes, relay the answer as it arrives, classify
/// failures, report to the pool, and retry on another key while nothing has reached the client yet.
/// </summary>
public sealed partial class UpstreamForwarder(
    HttpMessageInvoker upstream,
    KeyPoolReference pool,
    KeyLeases leases,
    KnownModels knownModels,
    UpstreamKeySecrets keys,
    IOptions<FrontendOptions> options,
    TimeProvider time,
    FrontendMetrics metrics,
    AttemptReporter reporter,
    RequestLog requestLog,
    ClientAdmission clients,
    ILogger<UpstreamForwarder> logger)
{
    private const int MaxErrorBodyBytes = 64 * 1024;
    private static readonly TimeSpan TransientBackoff = TimeSpan.FromMilliseconds(100);

    private readonly FrontendOptions _options = options.Value;

    private readonly Uri _baseUri = options.Value.BaseUri;

    public async Task ForwardAsync(HttpContext context, UpstreamCall call)
    {
        var aborted = context.RequestAborted;
        var started = Stopwatch.GetTimestamp();
        if (!(await clients.AdmitAsync(context, call.Surface, call.Model)).Admitted)
        {
            Complete(context, call, null, 0, started, 0); // refused by the client's limits: answered, nothing upstream
            return;
        }
        TriedKeys? tried = null;
        UpstreamFailure? last = null;
        var attempts = 0;
        long relayed = 0;
        KeyAlias? alias = null;
        while (attempts < _options.MaxAttempts)
        {
            if (alias is not null)
            {
                tried = tried?.And(alias.Index) ?? new TriedKeys([alias.Index]); // only a retry needs the keys tried
            }
            LeasedKey lease;
            try
            {
                lease = await leases.NextAsync(call.Model, tried, aborted);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                Complete(context, call, alias, attempts, started, relayed); // the client left while its key was being leased
                return;
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException or ArgumentException or InvalidOperationException)
            {
                // no silo reachable (cluster starting, or every silo gone): nothing was sent upstream, the client may retry
                LogPoolUnreachable(logger, ex.GetType().Name);
                await call.Surface.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable,
                    "The key pool is not reachable right now; retry shortly.", TimeSpan.FromSeconds(1));
                Complete(context, call, alias, attempts, started, relayed);
                return;
            }
            if (lease.Key is null)
            {
                relayed = await WriteExhaustedAsync(context, call, lease, last);
                Complete(context, call, alias, attempts, started, relayed);
                return;
            }
            alias = lease.Key;
            if (!keys.TryGetSecret(alias, out var secret))
            {
                LogKeyNotHeld(logger, alias.Index, alias.Fingerprint);
                continue; // the pool knows a key this process was not given (rolling update): try another, no attempt spent
            }
            if (last is not null)
            {
                metrics.Retried(call.Model, last.Classification.Outcome);
            }
            attempts++;

            (var result, relayed) = await AttemptAsync(context, call, alias, secret, aborted);
            if (result is null)
            {
                Complete(context, call, alias, attempts, started, relayed);
                return;
            }
            last = result;
            if (result.Classification.Outcome == UpstreamOutcome.Transient && attempts < _options.MaxAttempts)
            {
                await Task.Delay(TransientBackoff * attempts, time, aborted);
            }
        }
        // the attempts ran out on rate-limited keys: say when to come back, as the all-cooling answer does
        var retryAfter = last!.Status == StatusCodes.Status429TooManyRequests ? last.Classification.RetryDelay : null;
        relayed = await WriteUpstreamErrorAsync(context, call, last, retryAfter);
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

    /// <summary>
    /// One attempt with one key. Returns a null failure when the client has its answer, or the retryable failure; and
    /// the body bytes relayed from upstream.
    /// </summary>
    private async Task<(UpstreamFailure? Failure, long Bytes)> AttemptAsync(HttpContext context, UpstreamCall call, KeyAlias alias, string secret, CancellationToken aborted)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(call.Streaming ? _options.StreamIdleTimeout : _options.UpstreamTimeout);
        using var request = BuildRequest(call, secret);
        HttpResponseMessage response;
        var sending = Stopwatch.GetTimestamp();
        try
        {
            response = await upstream.SendAsync(request, timeout.Token);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            Record(alias, call.Model, UpstreamOutcome.ClientError, "client disconnected");
            return (null, 0);
        }
        catch (OperationCanceledException)
        {
            metrics.UpstreamAnswered(call.Model, 0, sending);
            Record(alias, call.Model, UpstreamOutcome.Timeout, "gateway timeout");
            await call.Surface.WriteErrorAsync(context, StatusCodes.Status504GatewayTimeout, "Upstream did not answer in time (UPSTREAM_TIMEOUT).");
            return (null, 0);
        }
        catch (HttpRequestException ex)
        {
            metrics.UpstreamAnswered(call.Model, 0, sending);
            return (await FailTransientAsync(alias, call, $"connection failed: {ex.HttpRequestError}"), 0);
        }
        var status = (int)response.StatusCode;
        if (status is >= 200 and < 300 or 429)
        {
            knownModels.Add(call.Model); // upstream serves the model, or meters it: its name may label metrics now
        }
        metrics.UpstreamAnswered(call.Model, status, sending);

        using (response)
        {
            if (status is >= 200 and < 300)
            {
                var relayed = await RelayAsync(context, call, alias, response, timeout);
                return relayed >= 0 ? (null, relayed)
                    : (await FailTransientAsync(alias, call, "upstream answer broke off before its first byte"), 0);
            }

            byte[] body;
            try
            {
                body = await ReadErrorBodyAsync(response, timeout.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !aborted.IsCancellationRequested))
            {
                return (await FailTransientAsync(alias, call, "error body broke off"), 0);
            }
            var classification = UpstreamErrorClassifier.Classify(status, body);
            var failure = new UpstreamFailure(status, ContentTypeOf(response), body, classification);
            var report = new AttemptReport(alias, call.Model, classification.Outcome, classification.RetryDelay, classification.Reason);
            metrics.AttemptCompleted(alias, classification.Outcome, null, call.Model);
            if (!classification.Outcome.IsRetryable())
            {
                reporter.Report(report);
                return (null, await WriteUpstreamErrorAsync(context, call, failure, retryAfter: null));
            }
            LogAttemptFailed(logger, alias.Index, call.Model, status, classification.Reason);
            if (classification.Outcome.ChangesKeyState())
            {
                metrics.CooldownStarted(alias, call.Model, classification.Outcome);
                leases.Withdraw(alias, classification.Outcome == UpstreamOutcome.InvalidKey ? null : call.Model);
                await pool.Reference.PenalizeAsync(report);
            }
            else
            {
                reporter.Report(report);
            }
            return (failure, 0);
        }
    }

    private Task<UpstreamFailure> FailTransientAsync(KeyAlias alias, UpstreamCall call, string reason)
    {
        LogAttemptFailed(logger, alias.Index, call.Model, 0, reason);
        Record(alias, call.Model, UpstreamOutcome.Transient, reason);
        var message = $"Upstream {reason}.";
        return Task.FromResult(new UpstreamFailure(StatusCodes.Status502BadGateway, null, null,
            new UpstreamClassification(UpstreamOutcome.Transient, null, message)));
    }

    private void Record(KeyAlias alias, string model, UpstreamOutcome outcome, string? reason, TokenCounts? tokens = null, string? client = null)
    {
        metrics.AttemptCompleted(alias, outcome, tokens, model, client);
        reporter.Report(new AttemptReport(alias, model, outcome, null, reason, tokens)); // batched, off the request path
    }

    private HttpRequestMessage BuildRequest(UpstreamCall call, string secret)
    {
        var request = new HttpRequestMessage(call.Method, new Uri(_baseUri, call.PathAndQuery))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
        };
        call.Surface.Authorize(request, secret);
        if (call.Method == HttpMethod.Post)
        {
            request.Content = new ReadOnlyMemoryContent(call.Body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        }
        return request;
    }

    /// <summary>
    /// Streams the answer to the client chunk by chunk and returns the bytes relayed, or -1 when upstream broke off before
    /// any byte reached the client, so another key may still be tried; after the first byte, a failure ends the response instead.
    /// Reports the success to the pool with the tokens the answer's last usage object names.
    /// </summary>
    private async Task<long> RelayAsync(HttpContext context, UpstreamCall call, KeyAlias alias, HttpResponseMessage response, CancellationTokenSource timeout)
    {
        var client = context.Response;
        client.StatusCode = (int)response.StatusCode;
        var contentType = ContentTypeOf(response);
        if (contentType is not null)
        {
            client.ContentType = contentType;
        }
        var isEventStream = contentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
        if (isEventStream)
        {
            client.Headers.CacheControl = "no-cache";
            client.Headers["X-Accel-Buffering"] = "no";
        }
        else if (!call.Streaming && response.Content.Headers.ContentLength is { } length)
        {
            client.ContentLength = length;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var tail = new ResponseTail(); // not `using`: a using local is read-only, and Append mutates it
        var sent = 0L;
        try
        {
            // the handler's answer content hands over the connection's stream without I/O: no Task per request for it
            await using var body = response.Content.ReadAsStream(timeout.Token);
            while (true)
            {
                var read = await body.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    var usage = tail.ReadUsage();
                    var request = ClientRequest.Of(context);
                    request?.Used(usage);
                    Record(alias, call.Model, UpstreamOutcome.Success, null, usage, request?.Client.Name);
                    return sent;
                }
                if (call.Streaming)
                {
                    timeout.CancelAfter(_options.StreamIdleTimeout);
                }
                sent += read;
                tail.Append(buffer.AsSpan(0, read));
                await client.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
            }
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            Record(alias, call.Model, UpstreamOutcome.Success, "client left during the answer"); // the key worked
            return sent; // the client left; its cancellation already reached upstream through the linked token
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            if (sent == 0 && !client.HasStarted)
            {
                client.ContentLength = null;
                return -1;
            }
            LogStreamBroken(logger, alias.Index, call.Model, ex.GetType().Name);
            Record(alias, call.Model, UpstreamOutcome.Transient, "stream broke off");
            if (isEventStream)
            {
                await client.Body.WriteAsync(call.Surface.StreamFailureEvent("The upstream stream broke off before it finished."), context.RequestAborted);
            }
            else
            {
                context.Abort(); // a truncated JSON answer must not look complete
            }
            return sent;
        }
        finally
        {
            tail.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Upstream's Content-Type as it was sent, without parsing it into a MediaTypeHeaderValue and printing it again
    /// (a few hundred bytes per request); null when absent or when it holds a character a response header may not.
    /// </summary>
    private static string? ContentTypeOf(HttpResponseMessage response) =>
        response.Content.Headers.NonValidated.TryGetValues("Content-Type", out var values)
        && values.ToString() is { Length: > 0 } raw && !raw.AsSpan().ContainsAnyExceptInRange((char)0x20, (char)0x7E)
            ? raw
            : null;

    private static async Task<byte[]> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var copy = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while (copy.Length < MaxErrorBodyBytes && (read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            copy.Write(buffer, 0, read);
        }
        return copy.ToArray();
    }

    /// <summary>Writes a failed attempt's answer; returns the upstream body bytes written (0 for a message of the gateway's own).</summary>
    private async Task<long> WriteUpstreamErrorAsync(HttpContext context, UpstreamCall call, UpstreamFailure failure, TimeSpan? retryAfter)
    {
        if (failure.Body is null)
        {
            await call.Surface.WriteErrorAsync(context, failure.Status, failure.Classification.Reason, retryAfter);
            return 0;
        }
        var response = context.Response;
        response.StatusCode = failure.Status;
        response.ContentType = failure.ContentType ?? "application/json; charset=utf-8";
        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(delay.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var body = call.Surface.AdaptUpstreamError(keys.MaskSecrets(failure.Body));
        await response.Body.WriteAsync(body);
        return body.Length;
    }

    private async Task<long> WriteExhaustedAsync(HttpContext context, UpstreamCall call, LeasedKey lease, UpstreamFailure? last)
    {
        var retryAfter = lease.RetryAt is { } at ? at - time.GetUtcNow() : (TimeSpan?)null;
        if (last is not null)
        {
            // the keys ran out while retrying: the last upstream answer says more than a generic message
            return await WriteUpstreamErrorAsync(context, call, last, retryAfter);
        }
        if (lease.AllInvalid)
        {
            await call.Surface.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable,
                "Every upstream key in the pool is invalid. An operator must replace GEMINI_API_KEY.");
            return 0;
        }
        var message = retryAfter is { } wait
            ? $"Every upstream key is cooling down for model {call.Model}; the first returns in {Math.Ceiling(wait.TotalSeconds)} s."
            : $"No upstream key is usable for model {call.Model} right now.";
        await call.Surface.WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, message, retryAfter ?? TimeSpan.FromSeconds(1));
        return 0;
    }

    /// <summary>A failed attempt: what to tell the client if no other key does better.</summary>
    private sealed record UpstreamFailure(int Status, string? ContentType, byte[]? Body, UpstreamClassification Classification);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "The key pool is not reachable ({Error}); answered 503")]
    private static partial void LogPoolUnreachable(ILogger logger, string error);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Key #{KeyIndex} failed for {Model} ({Status}): {Reason}; trying another key")]
    private static partial void LogAttemptFailed(ILogger logger, int keyIndex, string model, int status, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Stream from key #{KeyIndex} for {Model} broke off after the first byte ({Error})")]
    private static partial void LogStreamBroken(ILogger logger, int keyIndex, string model, string error);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "The pool leased key #{KeyIndex} ({Fingerprint}) that this process does not hold; check GEMINI_API_KEY matches across processes")]
    private static partial void LogKeyNotHeld(ILogger logger, int keyIndex, string fingerprint);
}
