namespace GeminiParty.Frontend.Hosting;

/// <summary>
/// CORS_ORIGINS: which web pages may call the gateway from a browser. <c>*</c> (the default, as Google's endpoint
/// answers) lets any page; a list of origins (<c>https://app.example.com,http://localhost:5173</c>, or
/// <c>https://*.example.com</c> for every subdomain, as preview deployments need) lets only those; <c>off</c> sends no
/// CORS headers, so browsers keep other origins' pages out. Any origin is safe as a default because nothing here rides
/// on ambient credentials: every call carries its token in a header or the query, never a cookie.
/// </summary>
public sealed class CorsOrigins
{
    private const string AnySubdomain = "*.";

    private readonly HashSet<string> _exact;

    /// <summary>The wildcard entries as (scheme and "://", ".example.com" with its port): a page matches by its ending.</summary>
    private readonly (string Scheme, string Suffix)[] _subdomains;

    private CorsOrigins(bool enabled, bool any, HashSet<string> exact, (string, string)[] subdomains)
    {
        Enabled = enabled;
        AllowsAny = any;
        _exact = exact;
        _subdomains = subdomains;
    }

    /// <summary>Whether the gateway answers preflights and puts CORS headers on its answers at all.</summary>
    public bool Enabled { get; }

    /// <summary>Whether every origin may call (<c>*</c>).</summary>
    public bool AllowsAny { get; }

    /// <summary>Whether a page of <paramref name="origin"/> (a request's Origin header) may call.</summary>
    public bool Allows(string origin)
    {
        if (!Enabled || AllowsAny)
        {
            return Enabled;
        }
        if (Normalize(origin) is not { } page)
        {
            return false;
        }
        if (_exact.Contains(page))
        {
            return true;
        }
        foreach (var (scheme, suffix) in _subdomains)
        {
            // one label or more in front of the domain: "https://a.b.example.com" matches "https://*.example.com"
            if (page.StartsWith(scheme, StringComparison.Ordinal) && page.EndsWith(suffix, StringComparison.Ordinal)
                && page.Length > scheme.Length + suffix.Length)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The setting parsed; null with <paramref name="error"/> saying what to fix when an entry is not an origin.</summary>
    public static CorsOrigins? Parse(string? value, out string? error)
    {
        error = null;
        var trimmed = value?.Trim() ?? "";
        if (trimmed is "" or "*")
        {
            return new CorsOrigins(enabled: true, any: true, [], []);
        }
        if (trimmed.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return new CorsOrigins(enabled: false, any: false, [], []);
        }
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var subdomains = new List<(string, string)>();
        foreach (var entry in trimmed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var schemeEnd = entry.IndexOf("://", StringComparison.Ordinal);
            var wildcard = schemeEnd > 0 && entry.AsSpan(schemeEnd + 3).StartsWith(AnySubdomain, StringComparison.Ordinal);
            // a wildcard entry is checked as the origin of its domain, then kept as the ending a subdomain's origin has
            var checkedEntry = wildcard ? entry.Remove(schemeEnd + 3, AnySubdomain.Length) : entry;
            if (Normalize(checkedEntry) is not { } origin)
            {
                error = $"'{entry}' is not an origin: write scheme://host[:port] with no path, e.g. https://app.example.com, or https://*.example.com for its subdomains";
                return null;
            }
            if (wildcard)
            {
                subdomains.Add((origin[..(schemeEnd + 3)], "." + origin[(schemeEnd + 3)..]));
            }
            else
            {
                exact.Add(origin);
            }
        }
        return new CorsOrigins(enabled: true, any: false, exact, [.. subdomains]);
    }

    /// <summary>An http(s) origin in the one form browsers send it, or null when <paramref name="value"/> is not one.</summary>
    private static string? Normalize(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
            ? uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant()
            : null;
}
