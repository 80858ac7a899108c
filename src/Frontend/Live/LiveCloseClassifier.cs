using System.Net.WebSockets;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// What a Live API refusal means for the key, in the classes of <see cref="UpstreamErrorClassifier"/>. Upstream refuses
/// a Live session either on the handshake, with an HTTP status (classified as an HTTP answer with no body would be:
/// ClientWebSocket does not expose the body), or by accepting the upgrade and closing at once with a close code whose
/// reason is Google's error message. Codes are shared between causes (1008 is both "API key not valid" and "model not
/// found"; 1011 both "quota exceeded" and an internal error), so the reason text decides first.
/// </summary>
public static class LiveCloseClassifier
{
    /// <summary>An upstream close before the session was set up.</summary>
    /// <param name="resourceInPlay">
    /// The setup names a resource (a custom voice): a refused permission is then about that resource, not the key, as
    /// for an HTTP 403.
    /// </param>
    public static UpstreamClassification Classify(WebSocketCloseStatus? status, string? description, bool resourceInPlay = false)
    {
        var code = status is { } s ? (int)s : 1005;
        var text = description ?? "";
        var reason = $"close {code}: {Short(text)}";
        if (code is not (1007 or 1008 or 1011 or 1013 or 1014))
        {
            // a normal or going-away close, or an application code: the client gets it as it is
            return new(UpstreamOutcome.ClientError, null, reason);
        }
        if (MentionsQuota(text))
        {
            return Mentions(text, "per day", "PerDay", "daily")
                ? new(UpstreamOutcome.DailyQuotaExhausted, null, reason)
                : new(UpstreamOutcome.RateLimited, null, reason);
        }
        if (Mentions(text, "API key", "API_KEY", "api_key", "UNAUTHENTICATED", "unauthenticated", "suspended", "unregistered callers"))
        {
            return new(UpstreamOutcome.InvalidKey, null, reason);
        }
        if (Mentions(text, "PERMISSION_DENIED", "permission"))
        {
            return new(resourceInPlay ? UpstreamOutcome.ClientError : UpstreamOutcome.InvalidKey, null, reason);
        }
        return code is 1011 or 1013 or 1014
            ? new(UpstreamOutcome.Transient, null, reason) // internal error, try again later, bad gateway
            : new(UpstreamOutcome.ClientError, null, reason); // 1007, 1008: the setup itself (unknown model, bad field)
    }

    /// <summary>A handshake answered with <paramref name="status"/> instead of 101.</summary>
    public static UpstreamClassification ClassifyHandshake(int status)
    {
        // no body to read the reason from, and a Live session names no resource: a refused key is the only cause left
        var classification = status is 401 or 403
            ? new UpstreamClassification(UpstreamOutcome.InvalidKey, null, $"{status} refused")
            : UpstreamErrorClassifier.Classify(status, []);
        return classification with { Reason = $"handshake {classification.Reason}" };
    }

    /// <summary>
    /// The close code a client gets when no key could open its session: 1013 (try again later) when waiting may help,
    /// 1011 (internal error) when it will not.
    /// </summary>
    public static WebSocketCloseStatus ClientCloseFor(UpstreamOutcome outcome) =>
        outcome is UpstreamOutcome.RateLimited or UpstreamOutcome.DailyQuotaExhausted or UpstreamOutcome.Transient or UpstreamOutcome.Timeout
            ? TryAgainLater
            : WebSocketCloseStatus.InternalServerError;

    /// <summary>1013, which <see cref="WebSocketCloseStatus"/> does not name.</summary>
    public const WebSocketCloseStatus TryAgainLater = (WebSocketCloseStatus)1013;

    private static bool MentionsQuota(string text) =>
        Mentions(text, "quota", "RESOURCE_EXHAUSTED", "rate limit", "Rate limit", "Too Many Requests", "too many requests");

    private static bool Mentions(string text, params ReadOnlySpan<string> words)
    {
        foreach (var word in words)
        {
            if (text.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static string Short(string text) => text.Length <= 100 ? text : text[..100] + "...";
}
