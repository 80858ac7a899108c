using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>The errors Google's API sends, with the messages and details it uses.</summary>
internal static class GoogleErrors
{
    private const string TypePrefix = "type.googleapis.com/google.rpc.";
    private const string Service = "generativelanguage.googleapis.com";
    public const string PerMinuteQuotaId = "GenerateRequestsPerMinutePerProjectPerModel";
    public const string PerDayQuotaId = "GenerateRequestsPerDayPerProjectPerModel-FreeTier";

    public static GoogleError MissingKey() => new(403, "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        [ErrorInfo("SERVICE_DISABLED_OR_UNREGISTERED_CALLER")]);

    public static GoogleError InvalidKey() => new(400, "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        [ErrorInfo("API_KEY_INVALID"), LocalizedMessage("API key not valid. Please pass a valid API key.")]);

    /// <summary>Google names the key in this message; a gateway must not pass it on to its clients.</summary>
    public static GoogleError Suspended(string apiKey) => new(403, "PERMISSION_DENIED",
        $"Consumer 'api_key:{apiKey}' has been suspended.",
        [ErrorInfo("CONSUMER_SUSPENDED", ("consumer", "projects/000000000000"))]);

    public static GoogleError Unauthenticated() => new(401, "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        [ErrorInfo("ACCESS_TOKEN_TYPE_UNSUPPORTED")]);

    public static GoogleError RateLimited(bool perDay, int? retryDelaySeconds, string? model)
    {
        var message = "You exceeded your current quota, please check your plan and billing details. "
            + "For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
            + (retryDelaySeconds is { } seconds ? $" Please retry in {seconds}s." : "");
        var details = new List<Action<Utf8JsonWriter>>
        {
            QuotaFailure(perDay ? PerDayQuotaId : PerMinuteQuotaId, model ?? "gemini-2.0-flash", perDay ? "200" : "15"),
            json =>
            {
                json.WriteString("@type", TypePrefix + "Help");
                json.WriteStartArray("links");
                json.WriteStartObject();
                json.WriteString("description", "Learn more about Gemini API quotas");
                json.WriteString("url", "https://ai.google.dev/gemini-api/docs/rate-limits");
                json.WriteEndObject();
                json.WriteEndArray();
            },
        };
        if (retryDelaySeconds is { } delay)
        {
            details.Add(json =>
            {
                json.WriteString("@type", TypePrefix + "RetryInfo");
                json.WriteString("retryDelay", $"{delay}s");
            });
        }

        return new GoogleError(429, "RESOURCE_EXHAUSTED", message, details);
    }

    public static GoogleError Internal() => new(500, "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", []);

    public static GoogleError Overloaded() => new(503, "UNAVAILABLE", "The model is overloaded. Please try again later.", []);

    public static GoogleError DeadlineExceeded() => new(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.", []);

    public static GoogleError BadRequest(string message = "Request contains an invalid argument.") =>
        new(400, "INVALID_ARGUMENT", message, []);

    public static GoogleError MalformedJson() => new(400, "INVALID_ARGUMENT",
        "Invalid JSON payload received. Unexpected token.",
        [json =>
        {
            json.WriteString("@type", TypePrefix + "BadRequest");
            json.WriteStartArray("fieldViolations");
            json.WriteStartObject();
            json.WriteString("description", "Invalid JSON payload received. Unexpected token.");
            json.WriteEndObject();
            json.WriteEndArray();
        }]);

    public static GoogleError ModelNotFound(string? model, string? method) => new(404, "NOT_FOUND",
        $"models/{model} is not found for API version v1beta, or is not supported for {method ?? "this method"}. "
        + "Call ListModels to see the list of available models and their supported methods.", []);

    public static GoogleError NotFound(string message) => new(404, "NOT_FOUND", message, []);

    /// <summary>What a key gets for a resource another key's project made: no ErrorInfo, nothing about the key.</summary>
    public static GoogleError ResourceDenied(string kind, string id) => new(403, "PERMISSION_DENIED",
        $"You do not have permission to access the {kind} {id} or it may not exist.", []);

    /// <summary>A call the resource's state does not allow now, e.g. a cancel of a finished batch.</summary>
    public static GoogleError FailedPrecondition(string message) => new(400, "FAILED_PRECONDITION", message, []);

    public static GoogleError LocationNotSupported() => new(400, "FAILED_PRECONDITION", "User location is not supported for the API use.", []);

    /// <summary>The usual error for a status code, for faults that only name a status.</summary>
    public static GoogleError ForStatus(int status, string? apiKey, string? model) => status switch
    {
        429 => RateLimited(perDay: false, 37, model),
        400 => BadRequest(),
        401 => Unauthenticated(),
        403 => Suspended(apiKey ?? ""),
        404 => ModelNotFound(model, null),
        503 => Overloaded(),
        504 => DeadlineExceeded(),
        _ => Internal() with { Code = status },
    };

    private static Action<Utf8JsonWriter> ErrorInfo(string reason, params (string Name, string Value)[] extraMetadata) => json =>
    {
        json.WriteString("@type", TypePrefix + "ErrorInfo");
        json.WriteString("reason", reason);
        json.WriteString("domain", "googleapis.com");
        json.WriteStartObject("metadata");
        json.WriteString("service", Service);
        foreach (var (name, value) in extraMetadata)
        {
            json.WriteString(name, value);
        }

        json.WriteEndObject();
    };

    private static Action<Utf8JsonWriter> LocalizedMessage(string message) => json =>
    {
        json.WriteString("@type", TypePrefix + "LocalizedMessage");
        json.WriteString("locale", "en-US");
        json.WriteString("message", message);
    };

    private static Action<Utf8JsonWriter> QuotaFailure(string quotaId, string model, string quotaValue) => json =>
    {
        json.WriteString("@type", TypePrefix + "QuotaFailure");
        json.WriteStartArray("violations");
        json.WriteStartObject();
        json.WriteString("quotaMetric", Service + "/generate_content_free_tier_requests");
        json.WriteString("quotaId", quotaId);
        json.WriteStartObject("quotaDimensions");
        json.WriteString("location", "global");
        json.WriteString("model", model);
        json.WriteEndObject();
        json.WriteString("quotaValue", quotaValue);
        json.WriteEndObject();
        json.WriteEndArray();
    };
}
