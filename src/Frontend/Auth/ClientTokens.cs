using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Auth;

/// <summary>
/// Checks client tokens (AUTH_TOKEN). Tokens are compared as SHA-256 digests with a fixed-time comparison, so neither
/// the content nor the length of a token leaks through timing.
/// </summary>
public sealed class ClientTokens(IOptions<FrontendOptions> options)
{
    private const int MaxTokenLength = 4096;

    private readonly byte[][] _digests = options.Value.Tokens.Select(token => SHA256.HashData(Encoding.UTF8.GetBytes(token))).ToArray();

    /// <summary>
    /// Whether the request carries one of the client tokens in any of the places a client may put it: a Bearer header
    /// that is not a client token (an SDK's placeholder key, say) does not hide a valid <c>x-goog-api-key</c> or <c>key</c>.
    /// </summary>
    public bool IsValid(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && IsValid(authorization.AsSpan(7).Trim()))
        {
            return true;
        }
        var googKey = request.Headers["x-goog-api-key"].ToString();
        if (googKey.Length > 0 && IsValid(googKey.AsSpan().Trim()))
        {
            return true;
        }
        return request.QueryString.HasValue && request.Query.TryGetValue("key", out var key) && IsValid(key.ToString());
    }

    public bool IsValid(ReadOnlySpan<char> token)
    {
        if (token.IsEmpty || token.Length > MaxTokenLength)
        {
            return false;
        }
        // hashed from a buffer on the stack, or rented: checking a token allocates nothing
        byte[]? rented = null;
        var byteCount = Encoding.UTF8.GetMaxByteCount(token.Length);
        var utf8 = byteCount <= 1024 ? stackalloc byte[byteCount] : (rented = ArrayPool<byte>.Shared.Rent(byteCount));
        try
        {
            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(token, utf8)], digest);
            var match = false;
            foreach (var expected in _digests)
            {
                match |= CryptographicOperations.FixedTimeEquals(digest, expected);
            }
            return match;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
