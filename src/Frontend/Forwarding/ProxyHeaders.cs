using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Which headers cross the hop, on top of what YARP's <see cref="Yarp.ReverseProxy.Forwarder.HttpTransformer"/> already
/// leaves out (the fixed hop-by-hop set: Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade, Proxy-*, Alt-Svc).
/// </summary>
public static class ProxyHeaders
{
    /// <summary>
    /// Request headers that never go upstream: the client's credentials and cookies, Host (upstream's is the URI's),
    /// Expect (the body is already here), trace context (client correlation stays inside), Origin (CORS is the
    /// gateway's, CORS_ORIGINS; upstream's own CORS answer would contradict it) and Accept-Encoding (replaced: see
    /// <see cref="PrepareRequest"/>).
    /// </summary>
    private static readonly string[] DroppedRequestHeaders =
    [
        "Authorization", "x-goog-api-key", "Cookie", "Host", "Expect", "Accept-Encoding", "Origin",
        "traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context",
    ];

    /// <summary>
    /// Cleans a proxied request after YARP copied the client's headers. Upstream is asked for an uncompressed answer:
    /// the gateway reads error bodies for the classifier and the usage at the end of every success, and the hop to
    /// Google is the fast one; the client's own Accept-Encoding therefore does not reach upstream.
    /// </summary>
    public static void PrepareRequest(HttpRequest client, HttpRequestMessage proxy)
    {
        foreach (var name in DroppedRequestHeaders)
        {
            Remove(proxy, name);
        }
        if (client.Headers.Connection is { Count: > 0 } connection)
        {
            foreach (var name in NamedInConnection(connection))
            {
                Remove(proxy, name);
            }
        }
        // NonValidated: asking for ContentType would parse the header into an object on every request
        if (proxy.Content is { } content && !content.Headers.NonValidated.Contains("Content-Type") && !client.Headers.ContainsKey("Content-Type"))
        {
            content.Headers.TryAddWithoutValidation("Content-Type", "application/json"); // what Gemini's endpoints read
        }
        proxy.Headers.TryAddWithoutValidation("Accept-Encoding", "identity");
    }

    /// <summary>Cleans the client's response after YARP copied upstream's headers: no cookies, nothing named in Connection.</summary>
    public static void PrepareResponse(HttpResponseMessage upstream, HttpResponse client)
    {
        var headers = client.Headers;
        headers.Remove("Set-Cookie");
        if (upstream.Headers.NonValidated.TryGetValues("Connection", out var connection))
        {
            foreach (var value in connection)
            {
                foreach (var name in NamedInConnection(value))
                {
                    headers.Remove(name);
                }
            }
        }
        if (client.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true)
        {
            // proxies between the gateway and the client must pass each event on as it comes
            headers.CacheControl = "no-cache";
            headers["X-Accel-Buffering"] = "no";
        }
    }

    private static IEnumerable<string> NamedInConnection(StringValues connection)
    {
        foreach (var value in connection)
        {
            foreach (var name in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return name;
            }
        }
    }

    /// <summary>Content headers live on the content, the others on the request; asking the wrong one throws.</summary>
    private static readonly HashSet<string> ContentHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Allow", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length", "Content-Location",
        "Content-MD5", "Content-Range", "Content-Type", "Expires", "Last-Modified",
    };

    private static void Remove(HttpRequestMessage proxy, string name)
    {
        try
        {
            if (ContentHeaders.Contains(name))
            {
                proxy.Content?.Headers.Remove(name);
            }
            else
            {
                proxy.Headers.Remove(name);
            }
        }
        catch (FormatException)
        {
            // not a header name (a client's Connection header may list anything): nothing by that name was copied
        }
    }

    /// <summary>
    /// Google's resumable-upload headers on an answer that is not a success (<c>x-goog-upload-status</c>,
    /// <c>-size-received</c>, <c>-chunk-granularity</c>, ...): an upload client reads them on every chunk's answer,
    /// a failed one included, to know where the session stands. Not the session URL, which would name upstream's host.
    /// </summary>
    public static KeyValuePair<string, string>[] UploadHeadersOf(HttpResponseMessage upstream)
    {
        List<KeyValuePair<string, string>>? found = null;
        foreach (var (name, values) in upstream.Headers.NonValidated)
        {
            if (name.StartsWith(UploadHeaderPrefix, StringComparison.OrdinalIgnoreCase) && !name.Equals(UploadUrlHeader, StringComparison.OrdinalIgnoreCase)
                && values.ToString() is { Length: > 0 } value && !value.AsSpan().ContainsAnyExceptInRange((char)0x20, (char)0x7E))
            {
                (found ??= []).Add(new(name, value));
            }
        }
        return found?.ToArray() ?? [];
    }

    private const string UploadHeaderPrefix = "x-goog-upload-";

    private const string UploadUrlHeader = "x-goog-upload-url";

    /// <summary>Upstream's Content-Type as it was sent, or null when absent or not printable ASCII.</summary>
    public static string? ContentTypeOf(HttpContentHeaders headers) =>
        headers.NonValidated.TryGetValues("Content-Type", out var values)
        && values.ToString() is { Length: > 0 } raw && !raw.AsSpan().ContainsAnyExceptInRange((char)0x20, (char)0x7E)
            ? raw
            : null;
}
