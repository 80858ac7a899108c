using System.Security.Cryptography;
using System.Text;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Auth;

/// <summary>
/// Checks client tokens (AUTH_TOKEN). Tokens are compared as SHA-256 digests with a fixed-time comparison, so neither
/// the content nor the length of a token leaks through timing.
/// </summary>
public sealed class ClientTokens(IOptions<GatewayOptions> options)
{
    private readonly byte[][] _digests = options.Value.Tokens.Select(token => SHA256.HashData(Encoding.UTF8.GetBytes(token))).ToArray();

    public bool IsValid(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 4096)
        {
            return false;
        }
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), digest);
        var match = false;
        foreach (var expected in _digests)
        {
            match |= CryptographicOperations.FixedTimeEquals(digest, expected);
        }
        return match;
    }

    /// <summary>The token a client sent: <c>Authorization: Bearer</c>, <c>x-goog-api-key</c> or <c>?key=</c>.</summary>
    public static string? Read(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization[7..].Trim();
        }
        var googKey = request.Headers["x-goog-api-key"].ToString();
        if (googKey.Length > 0)
        {
            return googKey.Trim();
        }
        return request.Query.TryGetValue("key", out var key) ? key.ToString() : null;
    }
}
