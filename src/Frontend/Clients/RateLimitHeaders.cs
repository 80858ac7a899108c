using System.Globalization;

namespace GeminiParty.Frontend.Clients;

/// <summary>
/// The OpenAI convention's <c>x-ratelimit-*</c> headers, so clients (and the OpenAI SDKs) see their limits: the request
/// window is rpm (or rpd when only that is set); the token window is tpd, a Pacific day where OpenAI's is a minute.
/// Reset times use OpenAI's duration format ("1s", "6m0s", "20ms").
/// </summary>
public static class RateLimitHeaders
{
    public static void Write(HttpResponse response, ClientDecision decision)
    {
        if (decision.Requests is { } requests)
        {
            Write(response, "requests", requests);
        }
        if (decision.Tokens is { } tokens)
        {
            Write(response, "tokens", tokens);
        }
    }

    private static void Write(HttpResponse response, string kind, LimitWindow window)
    {
        var headers = response.Headers;
        headers[$"x-ratelimit-limit-{kind}"] = window.Limit.ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-remaining-{kind}"] = window.Remaining.ToString(CultureInfo.InvariantCulture);
        headers[$"x-ratelimit-reset-{kind}"] = Duration(window.ResetIn);
    }

    /// <summary>"250ms", "42s", "6m0s", "3h12m5s".</summary>
    public static string Duration(TimeSpan span)
    {
        if (span <= TimeSpan.Zero)
        {
            return "0s";
        }
        if (span < TimeSpan.FromSeconds(1))
        {
            return ((long)Math.Ceiling(span.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";
        }
        var seconds = (long)Math.Ceiling(span.TotalSeconds);
        var (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
        return h > 0 ? $"{h}h{m}m{s}s" : m > 0 ? $"{m}m{s}s" : $"{s}s";
    }
}
