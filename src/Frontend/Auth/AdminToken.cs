using System.Security.Cryptography;
using System.Text;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Auth;

/// <summary>
/// Checks ADMIN_TOKEN, sent as <c>Authorization: Bearer</c> only (never in a URL, where it would reach access logs).
/// Compared as SHA-256 digests in fixed time, as client tokens are. With no ADMIN_TOKEN set, nothing is an admin.
/// </summary>
public sealed class AdminToken(IOptions<FrontendOptions> options)
{
    private readonly byte[]? _digest = string.IsNullOrWhiteSpace(options.Value.AdminToken)
        ? null
        : SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.AdminToken.Trim()));

    /// <summary>Whether admin routes exist at all.</summary>
    public bool IsConfigured => _digest is not null;

    public bool IsValid(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (_digest is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || authorization.Length > 4096)
        {
            return false;
        }
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization.AsSpan(7).Trim().ToString()));
        return CryptographicOperations.FixedTimeEquals(presented, _digest);
    }
}
