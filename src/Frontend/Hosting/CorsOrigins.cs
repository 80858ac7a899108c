namespace GeminiParty.Frontend.Hosting;

/// <summary>
/// CORS_ORIGINS: which web pages may call the gateway from a browser. <c>*</c> (the default, as Google's endpoint
/// answers) lets any page; a list of origins (<c>https://app.example.com,http://localhost:5173</c>) lets only those;
/// <c>off</c> sends no CORS headers, so browsers keep other origins' pages out. Any origin is safe as a default because
/// nothing here rides on ambient credentials: every call carries its token in a header or the query, never a cookie.
/// </summary>
public sealed class CorsOrigins
{
    private readonly HashSet<string> _listed;

    private CorsOrigins(bool enabled, bool any, HashSet<string> listed)
    {
        Enabled = enabled;
        AllowsAny = any;
        _listed = listed;
    }

    /// <summary>Whether the gateway answers preflights and puts CORS headers on its answers at all.</summary>
    public bool Enabled { get; }

    /// <summary>Whether every origin may call (<c>*</c>).</summary>
    public bool AllowsAny { get; }

    /// <summary>The listed origins, normalized (lower case, no default port, no trailing slash).</summary>
    public IReadOnlyCollection<string> Listed => _listed;

    /// <summary>Whether a page of <paramref name="origin"/> (a request's Origin header) may call.</summary>
    public bool Allows(string origin) => Enabled && (AllowsAny || (Normalize(origin) is { } normalized && _listed.Contains(normalized)));

    /// <summary>The setting parsed; null with <paramref name="error"/> saying what to fix when an entry is not an origin.</summary>
    public static CorsOrigins? Parse(string? value, out string? error)
    {
        error = null;
        var trimmed = value?.Trim() ?? "";
        if (trimmed is "" or "*")
        {
            return new CorsOrigins(enabled: true, any: true, []);
        }
        if (trimmed.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return new CorsOrigins(enabled: false, any: false, []);
        }
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in trimmed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (Normalize(entry) is not { } origin)
            {
                error = $"'{entry}' is not an origin: write scheme://host[:port] with no path, e.g. https://app.example.com";
                return null;
            }
            listed.Add(origin);
        }
        return new CorsOrigins(enabled: true, any: false, listed);
    }

    /// <summary>An http(s) origin in the one form browsers send it, or null when <paramref name="value"/> is not one.</summary>
    private static string? Normalize(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
            ? uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant()
            : null;
}
