using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Hosting;

/// <summary>How the frontend logs. Metrics need no settings: /metrics is always there, behind a client token.</summary>
public sealed class ObservabilityOptions
{
    /// <summary>LOG_FORMAT: "text" (default, one line per entry) or "json" (one JSON object per line, for log shippers).</summary>
    [ConfigurationKeyName("LOG_FORMAT")]
    public string LogFormat { get; set; } = "text";

    /// <summary>LOG_REQUESTS: one Information line per forwarded request (default true); false silences that category only.</summary>
    [ConfigurationKeyName("LOG_REQUESTS")]
    public bool LogRequests { get; set; } = true;

    public bool IsJson => string.Equals(LogFormat.Trim(), "json", StringComparison.OrdinalIgnoreCase);
}

internal sealed class ObservabilityOptionsValidator : IValidateOptions<ObservabilityOptions>
{
    public ValidateOptionsResult Validate(string? name, ObservabilityOptions options) =>
        options.LogFormat.Trim().ToLowerInvariant() is "text" or "json" or ""
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"LOG_FORMAT is '{options.LogFormat}': set it to 'text' (default) or 'json'.");
}
