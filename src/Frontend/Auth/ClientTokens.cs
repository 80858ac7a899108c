using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Auth;

/// <summary>
/// Checks client tokens: those of AUTH_TOKEN (unnamed clients) and those of CLIENTS_FILE (named clients, as the file
/// is now). Tokens are compared as SHA-256 digests with a fixed-time comparison against every known digest, so neither
/// the content nor the length of a token, nor which client it belongs to, leaks through timing.
/// </summary>
public sealed class ClientTokens(IOptions<FrontendOptions> options, ClientsFile clients)
{
    private const int MaxTokenLength = 4096;

    private readonly byte[][] _digests = options.Value.Tokens.Select(token => SHA256.HashData(Encoding.UTF8.GetBytes(token))).ToArray();

    /// <summary>Whether the request carries a client token (see <see cref="Identify(HttpRequest)"/> for where).</summary>
    public bool IsValid(HttpRequest request) => Identify(request) is not null;

    public bool IsValid(ReadOnlySpan<char> token) => Identify(token) is not null;

    /// <summary>The client a request's token belongs to, or null for no (or an unknown) token.</summary>
    /// <remarks>
    /// Every place a client may put its token is tried: a Bearer header that is not a client token (an SDK's placeholder
    /// key, say) does not hide a valid <c>x-goog-api-key</c> or <c>key</c>.
    /// </remarks>
    public ClientPolicy? Identify(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && Identify(authorization.AsSpan(7).Trim()) is { } bearer)
        {
            return bearer;
        }
        var googKey = request.Headers["x-goog-api-key"].ToString();
        if (googKey.Length > 0 && Identify(googKey.AsSpan().Trim()) is { } header)
        {
            return header;
        }
        return request.QueryString.HasValue && request.Query.TryGetValue("key", out var key) ? Identify(key.ToString()) : null;
    }

    public ClientPolicy? Identify(ReadOnlySpan<char> token)
    {
        if (token.IsEmpty || token.Length > MaxTokenLength)
        {
            return null;
        }
        // hashed from a buffer on the stack, or rented: checking a token allocates nothing
        byte[]? rented = null;
        var byteCount = Encoding.UTF8.GetMaxByteCount(token.Length);
        var utf8 = byteCount <= 1024 ? stackalloc byte[byteCount] : (rented = ArrayPool<byte>.Shared.Rent(byteCount));
        try
        {
            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(token, utf8)], digest);
            ClientPolicy? found = null;
            foreach (var expected in _digests)
            {
                if (CryptographicOperations.FixedTimeEquals(digest, expected))
                {
                    found = ClientPolicy.Unnamed;
                }
            }
            var named = clients.Current.Clients; // an indexed loop: a foreach over the interface would box its enumerator
            for (var i = 0; i < named.Count; i++)
            {
                if (CryptographicOperations.FixedTimeEquals(digest, named[i].TokenDigest))
                {
                    found = named[i];
                }
            }
            return found;
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
