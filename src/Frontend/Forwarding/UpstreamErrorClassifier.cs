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
/// <item>400 with ErrorInfo API_KEY_INVALID, 401, 403: invalid key, out for every model.</item>
/// <item>500, 502, 503 and other 5xx: transient, retried elsewhere, no penalty.</item>
/// <item>504: timeout, returned as is.</item>
/// <item>other 4xx: the client's error, returned as is, not counted against the key.</item>
/// </list>
/// </summary>
public static class UpstreamErrorClassifier
{
    public static UpstreamClassification Classify(int status, ReadOnlySpan<byte> body)
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
            400 when error.Reasons.Contains("API_KEY_INVALID") => new(UpstreamOutcome.InvalidKey, null, "400 API key not valid"),
            401 => new(UpstreamOutcome.InvalidKey, null, "401 unauthenticated"),
            403 => new(UpstreamOutcome.InvalidKey, null, "403 permission denied"),
            504 => new(UpstreamOutcome.Timeout, null, "504 deadline exceeded"),
            >= 500 => new(UpstreamOutcome.Transient, null, $"{status} {error.Status ?? "server error"}"),
            _ => new(UpstreamOutcome.ClientError, null, $"{status} {error.Status ?? "client error"}"),
        };
    }

    /// <summary>A connection failure or reset before any byte of the answer arrived.</summary>
    public static UpstreamClassification ConnectionFailed() => new(UpstreamOutcome.Transient, null, "connection failed");

    private readonly record struct ErrorFacts(List<string> QuotaIds, List<string> Reasons, TimeSpan? RetryDelay, string? Status);

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
            TimeSpan? retryDelay = null;
            if (error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array)
            {
                foreach (var detail in details.EnumerateArray())
                {
                    retryDelay ??= ReadDetail(detail, facts.QuotaIds, facts.Reasons);
                }
            }
            return facts with { RetryDelay = retryDelay, Status = status };
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
