using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>Thrown when a request body is larger than MAX_REQUEST_BODY_MB.</summary>
public sealed class RequestBodyTooLargeException(long limit)
    : Exception($"The request body is larger than the {limit / (1024 * 1024)} MB this gateway accepts (MAX_REQUEST_BODY_MB).");

/// <summary>
/// Reads a request body once into a pooled buffer, so every retry sends the same bytes without copying them again.
/// </summary>
public sealed class RequestBody : IDisposable
{
    private byte[]? _rented;

    private RequestBody(byte[]? rented, int length)
    {
        _rented = rented;
        Memory = rented is null ? ReadOnlyMemory<byte>.Empty : rented.AsMemory(0, length);
    }

    public ReadOnlyMemory<byte> Memory { get; }

    /// <summary>
    /// Reads the body (a <see cref="ValueTask{TResult}"/>: a small body is usually here with the headers, and then nothing
    /// is allocated for the wait); when it is over <paramref name="limit"/> (413), arrives too slowly (408: Kestrel's minimum data
    /// rate) or is malformed (400), answers in the surface's shape and returns null.
    /// </summary>
    public static async ValueTask<RequestBody?> ReadOrRejectAsync(HttpContext context, ApiSurface surface, long limit)
    {
        try
        {
            return await ReadAsync(context.Request, limit, context.RequestAborted);
        }
        catch (RequestBodyTooLargeException ex)
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, ex.Message);
            return null;
        }
        catch (BadHttpRequestException ex)
        {
            var message = ex.StatusCode == StatusCodes.Status408RequestTimeout
                ? "The request body arrived too slowly (below the minimum data rate); nothing was sent upstream."
                : $"The request body could not be read ({ex.Message}); nothing was sent upstream.";
            await surface.WriteErrorAsync(context, ex.StatusCode, message);
            return null;
        }
    }

    public static async ValueTask<RequestBody> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw new RequestBodyTooLargeException(limit);
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit;
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? 16 * 1024, 256, limit));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == Math.Min(buffer.Length, limit))
                {
                    if (length >= limit)
                    {
                        // one byte more than the limit tells a too-large body from one that fits exactly
                        var probe = new byte[1];
                        if (await request.Body.ReadAsync(probe, cancellationToken) > 0)
                        {
                            throw new RequestBodyTooLargeException(limit);
                        }
                        break;
                    }
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length, (int)Math.Min(buffer.Length, limit) - length), cancellationToken);

                if (read == 0)
                {
                    break;
                }
                length += read;
            }
            return new RequestBody(buffer, length);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new RequestBodyTooLargeException(limit);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public void Dispose()
    {
        if (_rented is { } rented)
        {
            _rented = null;
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
