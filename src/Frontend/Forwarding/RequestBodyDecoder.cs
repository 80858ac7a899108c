using System.IO.Compression;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// A decoded copy of a compressed request body, for the few places the gateway must read a body (the OpenAI model
/// field, the safety-settings merge). What goes upstream is decided by the caller: the client's bytes with their
/// Content-Encoding when the gateway only read them, the decoded (rewritten) JSON without it when it changed them.
/// </summary>
public static class RequestBodyDecoder
{
    /// <summary>Whether the client declared a Content-Encoding other than identity.</summary>
    public static bool IsEncoded(HttpRequest request) =>
        request.Headers.ContentEncoding is { Count: > 0 } encoding && !string.Equals(encoding.ToString(), "identity", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The body as JSON bytes: itself when not encoded, else a decoded copy of at most <paramref name="limit"/> bytes.
    /// </summary>
    /// <exception cref="InvalidRequestBodyException">An encoding the gateway cannot read, a corrupt body, or one too large decoded.</exception>
    public static ReadOnlyMemory<byte> Decoded(HttpRequest request, ReadOnlyMemory<byte> body, long limit)
    {
        if (!IsEncoded(request))
        {
            return body;
        }
        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        try
        {
            using var compressed = new MemoryStream(body.ToArray(), writable: false);
            using Stream decoder = encoding.ToLowerInvariant() switch
            {
                "gzip" or "x-gzip" => new GZipStream(compressed, CompressionMode.Decompress),
                "deflate" => new ZLibStream(compressed, CompressionMode.Decompress),
                "br" => new BrotliStream(compressed, CompressionMode.Decompress),
                _ => throw new InvalidRequestBodyException($"Content-Encoding '{Printable(encoding)}' is not supported: use gzip, deflate or br."),
            };
            using var decoded = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = decoder.Read(buffer)) > 0)
            {
                if (decoded.Length + read > limit)
                {
                    throw new InvalidRequestBodyException($"The request body decoded is larger than the {limit / (1024 * 1024)} MB this gateway accepts (MAX_REQUEST_BODY_MB).");
                }
                decoded.Write(buffer, 0, read);
            }
            return decoded.GetBuffer().AsMemory(0, (int)decoded.Length);
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException) // Brotli reports corrupt data with the latter
        {
            throw new InvalidRequestBodyException($"The request body is not valid {Printable(encoding)} data: {ex.Message}");
        }
    }

    private static string Printable(string text) => PrintableText.Of(text, 32);
}
