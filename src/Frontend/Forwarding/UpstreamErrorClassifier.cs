using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>What an upstream answer means for the key that got it, and whether another key may do better.</summary>
public readonly record struct UpstreamClassification(UpstreamOutcome Outcome, TimeSpan? RetryDelay, string Reason);

/// <summary>
/// The one place that reads Gemini's errors. Only non-success answers are parsed.
/// <list type="table">
/// <item>429 with a QuotaFailure quotaId containing PerDay: daily quota, benched until the Pacific midnight.</item>
/// <item>other 429: rate limited, cooling for RetryInfo.retryDelay (else BLACKLIST_TIMEOUT).</item>
/// <item>an ErrorInfo reason about the key itself (<see cref="KeyReasons"/>), or 401 with no resource in play: invalid
/// key, out for every model.</item>
/// <item>403 or 404 about a resource, 403 without a key reason, 401 naming a resource, FAILED_PRECONDITION (user location
/// not supported): the client's answer, returned as is, the key untouched. A resource belongs to the key that made it,
/// so another key's 403 for it says nothing about that key: a client must not be able to spend the pool by naming
/// resources it does not own.</item>
/// <item>500, 502, 503 and other 5xx: transient, retried elsewhere, no penalty.</item>
/// <item>504: timeout, returned as is.</item>
/// <item>other 4xx: the client's error, returned as is, not counted against the key.</item>
/// </list>
/// </summary>
public static class UpstreamErrorClassifier
{
    /// <summary>
    /// ErrorInfo reasons by which upstream says the key itself is unusable (invalid, expired, suspended, blocked for this
    /// caller, its project's API disabled). The one list: any other 403 is about the request, not the key.
    /// </summary>
    public static readonly FrozenSet<string> KeyReasons = new[]
    {
        "API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED",
        "API_KEY_IP_ADDRESS_BLOCKED", "API_KEY_ANDROID_APP_BLOCKED", "API_KEY_IOS_APP_BLOCKED", "CONSUMER_SUSPENDED",
        "CONSUMER_INVALID", "SERVICE_DISABLED", "BILLING_DISABLED", "PROJECT_DENIED",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Messages that speak about the key when Google sends no ErrorInfo (a key reported as leaked).</summary>
    private static readonly string[] KeyMessages = ["API key was reported as leaked", "API key expired", "API key not valid"];

    /// <param name="status">Upstream's status.</param>
    /// <param name="body">The error body (only read when <paramref name="status"/> is not a success).</param>
    /// <param name="resourceInPlay">
    /// The request names a resource (file, cache, batch, operation, store): a 401 or 403 is then about that resource.
    /// </param>
    public static UpstreamClassification Classify(int status, ReadOnlySpan<byte> body, bool resourceInPlay = false)
    {
        if (status is >= 200 and < 300)
        {
            return new(UpstreamOutcome.Success, null, "ok");
        }
        var error = ReadError(body);
        return status switch
        {
            429 when error.QuotaIds.Any(id => id.Contains("PerDay", StringComparison.OrdinalIgnoreCase)) =>
                new(UpstreamOutcome.DailyQuotaExhausted, null, "429 daily quota exhausted"),
            429 => new(UpstreamOutcome.RateLimited, error.RetryDelay,
                error.RetryDelay is { } delay ? $"429 rate limited, retry in {delay.TotalSeconds:0.#}s" : "429 rate limited"),
            400 or 401 or 403 when error.Reasons.FirstOrDefault(KeyReasons.Contains) is { } reason =>
                new(UpstreamOutcome.InvalidKey, null, reason == "API_KEY_INVALID" ? $"{status} API key not valid" : $"{status} {reason}"),
            400 or 403 when !resourceInPlay && error.Message is { } message && Array.Exists(KeyMessages, m => message.Contains(m, StringComparison.OrdinalIgnoreCase)) =>
                new(UpstreamOutcome.InvalidKey, null, $"{status} API key refused"),
            401 when !resourceInPlay => new(UpstreamOutcome.InvalidKey, null, "401 unauthenticated"),
            504 => new(UpstreamOutcome.Timeout, null, "504 deadline exceeded"),
            >= 500 => new(UpstreamOutcome.Transient, null, $"{status} {error.Status ?? "server error"}"),
            _ => new(UpstreamOutcome.ClientError, null, $"{status} {error.Status ?? "client error"}"),
        };
    }

    /// <summary>A connection failure or reset before any byte of the answer arrived.</summary>
    public static UpstreamClassification ConnectionFailed() => new(UpstreamOutcome.Transient, null, "connection failed");

    private readonly record struct ErrorFacts(List<string> QuotaIds, List<string> Reasons, TimeSpan? RetryDelay, string? Status, string? Message = null);

    private static ErrorFacts ReadError(ReadOnlySpan<byte> body)
    {
        var facts = new ErrorFacts([], [], null, null);
        if (body.IsEmpty)
        {
            return facts;
        }
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0)
            {
                root = root[0]; // Google's OpenAI-compatible endpoint wraps the error in an array
            }
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object)
            {
                return facts;
            }
            var status = error.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            TimeSpan? retryDelay = null;
            if (error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array)
            {
                foreach (var detail in details.EnumerateArray())
                {
                    retryDelay ??= ReadDetail(detail, facts.QuotaIds, facts.Reasons);
                }
            }
            return facts with { RetryDelay = retryDelay, Status = status, Message = message };
        }
        catch (JsonException)
        {
            return facts; // not JSON (an HTML error page, a truncated body): the status alone decides
        }
    }

    private static TimeSpan? ReadDetail(JsonElement detail, List<string> quotaIds, List<string> reasons)
    {
        if (detail.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        if (detail.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String)
        {
            reasons.Add(reason.GetString()!);
        }
        if (detail.TryGetProperty("violations", out var violations) && violations.ValueKind == JsonValueKind.Array)
        {
            foreach (var violation in violations.EnumerateArray())
            {
                if (violation.ValueKind == JsonValueKind.Object && violation.TryGetProperty("quotaId", out var id) && id.ValueKind == JsonValueKind.String)
                {
                    quotaIds.Add(id.GetString()!);
                }
            }
        }
        return detail.TryGetProperty("retryDelay", out var delay) && delay.ValueKind == JsonValueKind.String
            ? ParseDuration(delay.GetString()!)
            : null;
    }

    /// <summary>Parses a protobuf Duration in JSON form ("37s", "1.5s").</summary>
    internal static TimeSpan? ParseDuration(string value) =>
        value.EndsWith('s')
        && double.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
        && seconds is >= 0 and < 86_400 * 7
            ? TimeSpan.FromSeconds(seconds)
            : null;
}
