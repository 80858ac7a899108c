using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using GeminiParty.Frontend.Observability;
using GeminiParty.Frontend.Resources;
using Yarp.ReverseProxy.Forwarder;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// What YARP does differently for one attempt with one key. On the way up: the target URI and the pool key in place of
/// the client's credentials (the buffered body is put back before each attempt: <see cref="ReplayBody"/>). On the way back: a success is copied by YARP through a <see cref="RelayedContent"/>; any other answer
/// is read here (small: an error body) for the classifier and not copied, so the client has received nothing and the
/// next key can still be tried. What a success makes (an upload session, the resources its body names) is bound to the
/// key before the client sees it, so the client's next request, through whichever frontend, goes to that key.
/// </summary>
/// <param name="keepAlive">STREAM_KEEPALIVE for server-sent-event answers; null for none.</param>
/// <param name="affinity">Records the key of what a success makes; null where nothing is recorded.</param>
public sealed class AttemptTransformer(UpstreamCall call, Uri target, ServerTiming? timing,
    TimeProvider? time = null, TimeSpan? keepAlive = null, TimeSpan? idleTimeout = null, ResourceAffinity? affinity = null) : HttpTransformer
{
    private const int MaxErrorBodyBytes = 64 * 1024;

    private const string UploadUrlHeader = "x-goog-upload-url";

    private readonly EmptyAnswerCheck? _check = EmptyAnswerCheck.For(call);

    private string _secret = "";
    private KeyAlias? _key;
    private long _sentAt;

    /// <summary>Upstream's status; 0 when it did not answer.</summary>
    public int Status { get; private set; }

    /// <summary>When upstream's answer headers arrived (a <see cref="Stopwatch"/> timestamp); 0 when they did not.</summary>
    public long AnsweredAt { get; private set; }

    /// <summary>The success content YARP copies to the client; null when the answer was not a success.</summary>
    public RelayedContent? Relay { get; private set; }

    /// <summary>A failed answer's body (at most 64 KiB), for the classifier and, if no other key does better, the client.</summary>
    public byte[]? ErrorBody { get; private set; }

    public string? ErrorContentType { get; private set; }

    /// <summary>A failed answer's resumable-upload headers, which go to the client with the failure.</summary>
    public KeyValuePair<string, string>[] ErrorHeaders { get; private set; } = [];

    /// <summary>The failed answer's body broke off while it was read.</summary>
    public bool ErrorBodyBroken { get; private set; }

    /// <summary>Starts an attempt with another key: what the last one learnt is forgotten.</summary>
    public void Begin(KeyAlias key, string secret)
    {
        _key = key;
        _secret = secret;
        Status = 0;
        AnsweredAt = 0;
        Relay = null;
        ErrorBody = null;
        ErrorContentType = null;
        ErrorHeaders = [];
        ErrorBodyBroken = false;
    }

    /// <summary>
    /// Makes the client's request read as the bytes to send, once per attempt. The body was read once into memory (to
    /// know the model, to merge settings, and to retry): YARP copies the request body from the client's request and
    /// refuses a replaced outgoing content, so each attempt hands it a fresh stream over the same bytes (no copy) with
    /// their exact length.
    /// </summary>
    public void ReplayBody(HttpRequest request)
    {
        if (!call.HasBody || call.StreamRequestBody)
        {
            return;
        }
        request.Body = new ReadOnlyMemoryStream(call.Body);
        request.Headers.Remove("Transfer-Encoding"); // the whole body is here: it goes with its length
        request.ContentLength = call.Body.Length;
        if (call.BodyRewritten)
        {
            request.Headers.Remove("Content-Encoding");
        }
    }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        ProxyHeaders.PrepareRequest(httpContext.Request, proxyRequest);
        call.Surface.Authorize(proxyRequest, _secret);
        proxyRequest.RequestUri = target;
        _sentAt = Stopwatch.GetTimestamp();
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            return false; // no answer: YARP reports the error, the forwarder decides
        }
        AnsweredAt = Stopwatch.GetTimestamp();
        timing?.AddUpstream(_sentAt, AnsweredAt); // now: a success's headers leave before YARP returns
        Status = (int)proxyResponse.StatusCode;
        if (Status is >= 200 and < 300)
        {
            await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            ProxyHeaders.PrepareResponse(proxyResponse, httpContext.Response);
            if (call.UploadUrl is { } rewrite && httpContext.Response.Headers.TryGetValue(UploadUrlHeader, out var url)
                && Uri.TryCreate(url.ToString(), UriKind.Absolute, out var session))
            {
                httpContext.Response.Headers[UploadUrlHeader] = rewrite(session.PathAndQuery);
                if (System.Web.HttpUtility.ParseQueryString(session.Query)["upload_id"] is { } uploadId && affinity is not null && _key is not null)
                {
                    await affinity.BindAsync("uploads/" + uploadId, _key.Fingerprint); // before the client can send a chunk
                }
            }
            if (call.Deletes is { } deleted && affinity is not null)
            {
                await affinity.ForgetAsync(deleted); // before the client, who may name it next through another frontend, hears it is gone
            }
            proxyResponse.Content = Relay = new RelayedContent(proxyResponse.Content, PolicyFor(proxyResponse));
            return true;
        }

        // YARP set the status line already; put it back so the client response stays untouched for the next attempt
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        if (httpContext.Features.Get<IHttpResponseFeature>() is { } feature)
        {
            feature.ReasonPhrase = null;
        }
        ErrorContentType = ProxyHeaders.ContentTypeOf(proxyResponse.Content.Headers);
        ErrorHeaders = ProxyHeaders.UploadHeadersOf(proxyResponse);
        try
        {
            ErrorBody = await ReadErrorBodyAsync(proxyResponse.Content, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            ErrorBodyBroken = true;
        }
        return false;
    }

    /// <summary>What the relay of this success does besides counting; null when it only counts.</summary>
    private RelayPolicy? PolicyFor(HttpResponseMessage response)
    {
        var eventStream = ProxyHeaders.ContentTypeOf(response.Content.Headers)?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
        var alive = eventStream ? keepAlive : null;
        Func<ReadOnlyMemory<byte>, Task>? bind = affinity is null || _key is not { } key ? null : call.RecordAnswer switch
        {
            AnswerRecord.ResourceNames => answer => affinity.RecordAnswerAsync(answer, key.Fingerprint),
            AnswerRecord.InteractionId => answer => affinity.RecordInteractionAsync(answer, key.Fingerprint),
            _ => null,
        };
        return _check is null && alive is null && bind is null
            ? null
            : new RelayPolicy(_check, call.Streaming, alive, idleTimeout ?? Timeout.InfiniteTimeSpan, time ?? TimeProvider.System, bind)
            {
                // a stream's resource is named in its first event: bound then, and the rest flows as it comes
                BindsFirstEvent = eventStream && bind is not null,
            };
    }

    private static async Task<byte[]> ReadErrorBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var copy = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while (copy.Length < MaxErrorBodyBytes && (read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            copy.Write(buffer, 0, read);
        }
        return copy.ToArray();
    }

    /// <summary>Undoes what YARP set on a failed attempt (its 502 or 504), so the next attempt or answer starts clean.</summary>
    public static void ResetResponse(HttpContext context)
    {
        context.Features.Set<IForwarderErrorFeature>(null);
        if (!context.Response.HasStarted)
        {
            context.Response.Clear();
        }
    }
}
