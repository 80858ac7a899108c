using System.Buffers;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// The Live API method a WebSocket path names: <c>google.ai.generativelanguage.{version}.GenerativeService.{method}</c>,
/// e.g. <c>v1beta</c> and <c>BidiGenerateContent</c>. Both parts are checked before they go into the upstream URL.
/// </summary>
public sealed record LiveRpc(string Version, string Method)
{
    private const string Package = "google.ai.generativelanguage.";
    private const string Service = ".GenerativeService.";
    private const int MaxMethodLength = 64;
    private static readonly SearchValues<char> Alphanumeric =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

    /// <summary>The path under GEMINI_BASE_URL, without a leading slash.</summary>
    public string UpstreamPath => $"ws/{Package}{Version}{Service}{Method}";

    /// <summary>
    /// Accepts a version of <c>v</c>, digits and an optional lower-case stage with digits (<c>v1</c>, <c>v1beta</c>,
    /// <c>v1alpha</c>, <c>v2beta3</c>) and a method that starts with an upper-case letter followed by letters and digits,
    /// so Google's later Bidi methods pass without a release of the gateway.
    /// </summary>
    public static bool TryParse(string? name, out LiveRpc rpc)
    {
        rpc = null!;
        if (name is null || !name.StartsWith(Package, StringComparison.Ordinal))
        {
            return false;
        }
        var rest = name.AsSpan(Package.Length);
        var service = rest.IndexOf(Service, StringComparison.Ordinal);
        if (service < 0)
        {
            return false;
        }
        var version = rest[..service];
        var method = rest[(service + Service.Length)..];
        if (!IsVersion(version) || method.Length is 0 or > MaxMethodLength || !char.IsAsciiLetterUpper(method[0])
            || method.ContainsAnyExcept(Alphanumeric))
        {
            return false;
        }
        rpc = new LiveRpc(version.ToString(), method.ToString());
        return true;
    }

    private static bool IsVersion(ReadOnlySpan<char> version)
    {
        if (version.Length is < 2 or > 16 || version[0] != 'v')
        {
            return false;
        }
        var i = 1;
        var digits = 0;
        while (i < version.Length && char.IsAsciiDigit(version[i]))
        {
            i++;
            digits++;
        }
        if (digits == 0)
        {
            return false;
        }
        while (i < version.Length && char.IsAsciiLetterLower(version[i]))
        {
            i++;
        }
        while (i < version.Length && char.IsAsciiDigit(version[i]))
        {
            i++;
        }
        return i == version.Length;
    }
}
