using System.Net.Http.Headers;
using System.Text.Json;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// What differs between the Gemini-native and the OpenAI-compatible surfaces: how the key is sent upstream and how
/// errors look to the client. Everything else (lease, forward, classify, retry) is the one <see cref="UpstreamForwarder"/>.
/// </summary>
public abstract class ApiSurface
{
    public static readonly ApiSurface GeminiNative = new GeminiNativeSurface();
    public static readonly ApiSurface OpenAi = new OpenAiSurface();

    /// <summary>A short name for logs and metrics.</summary>
    public abstract string Name { get; }

    /// <summary>Puts the pool key on the upstream request, in a header (never the URL).</summary>
    public abstract void Authorize(HttpRequestMessage request, string key);

    /// <summary>Writes an error the gateway itself produces, in this surface's error shape; returns the body's length.</summary>
    public async Task<int> WriteErrorAsync(HttpContext context, int status, string message, TimeSpan? retryAfter = null, string? googleStatus = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = RetryAfterSeconds(delay);
        }
        var body = ErrorBody(status, message, googleStatus);
        await response.Body.WriteAsync(body);
        return body.Length;
    }

    /// <summary>A Retry-After value: whole seconds, rounded up, at least 1.</summary>
    public static string RetryAfterSeconds(TimeSpan delay) =>
        Math.Max(1, (long)Math.Ceiling(delay.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The JSON body of an error in this surface's shape.</summary>
    /// <param name="googleStatus">Google's status name when the HTTP status alone does not say it (FAILED_PRECONDITION).</param>
    public abstract byte[] ErrorBody(int status, string message, string? googleStatus = null);

    /// <summary>Turns an upstream error body into what this surface's clients can read (already masked).</summary>
    public virtual ReadOnlyMemory<byte> AdaptUpstreamError(ReadOnlyMemory<byte> body) => body;

    /// <summary>The event that ends a server-sent-events stream whose upstream failed after the first byte.</summary>
    /// <param name="interaction">The stream is the Interactions API's, whose clients read an <c>error</c> event.</param>
    public byte[] StreamFailureEvent(string message, bool interaction = false) =>
    [
        .. "data: "u8,
        .. interaction
            ? JsonSerializer.SerializeToUtf8Bytes(new InteractionErrorEvent(new InteractionErrorDetail(GoogleStatus(502), message)),
                ErrorJsonContext.Default.InteractionErrorEvent)
            : ErrorBody(502, message),
        .. "\n\n"u8,
    ];

    internal static string GoogleStatus(int status) => status switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        413 => "INVALID_ARGUMENT",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ when status >= 500 => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    };

    private sealed class GeminiNativeSurface : ApiSurface
    {
        public override string Name => "native";

        public override void Authorize(HttpRequestMessage request, string key) =>
            request.Headers.TryAddWithoutValidation("x-goog-api-key", key);

        public override byte[] ErrorBody(int status, string message, string? googleStatus = null) =>
            JsonSerializer.SerializeToUtf8Bytes(
                new GoogleError(new GoogleErrorDetail(status, message, googleStatus ?? GoogleStatus(status))), ErrorJsonContext.Default.GoogleError);
    }

    private sealed class OpenAiSurface : ApiSurface
    {
        public override string Name => "openai";

        public override void Authorize(HttpRequestMessage request, string key) =>
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        public override byte[] ErrorBody(int status, string message, string? googleStatus = null)
        {
            var (type, code) = status switch
            {
                401 => ("invalid_request_error", "invalid_api_key"),
                404 => ("invalid_request_error", "model_not_found"),
                429 => ("rate_limit_exceeded", "rate_limit_exceeded"),
                >= 500 => ("server_error", GoogleStatus(status).ToLowerInvariant()),
                _ => ("invalid_request_error", GoogleStatus(status).ToLowerInvariant()),
            };
            return JsonSerializer.SerializeToUtf8Bytes(
                new OpenAiError(new OpenAiErrorDetail(message, type, code)), ErrorJsonContext.Default.OpenAiError);
        }

        /// <summary>Google's compatible endpoint sometimes wraps the error object in a one-element array.</summary>
        public override ReadOnlyMemory<byte> AdaptUpstreamError(ReadOnlyMemory<byte> body)
        {
            var span = body.Span.TrimStart(" \t\r\n"u8);
            if (span.IsEmpty || span[0] != (byte)'[')
            {
                return body;
            }
            try
            {
                using var document = JsonDocument.Parse(body);
                return document.RootElement is { ValueKind: JsonValueKind.Array } array && array.GetArrayLength() == 1
                    ? JsonSerializer.SerializeToUtf8Bytes(array[0])
                    : body;
            }
            catch (JsonException)
            {
                return body;
            }
        }
    }
}
