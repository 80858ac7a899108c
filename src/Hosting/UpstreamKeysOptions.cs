using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace GeminiParty.Hosting;

/// <summary>
/// The upstream keys: GEMINI_API_KEY (comma and/or newline separated) and GEMINI_API_KEY_FILE (one key per line with
/// attributes, reloaded live). Either or both; read by frontends and silos alike.
/// </summary>
public sealed class UpstreamKeysOptions
{
    [ConfigurationKeyName("GEMINI_API_KEY")]
    public string? Raw { get; set; }

    /// <summary>GEMINI_API_KEY_FILE: a key file (see <see cref="UpstreamKeyFile"/>), re-read while the process runs.</summary>
    [ConfigurationKeyName("GEMINI_API_KEY_FILE")]
    public string? File { get; set; }

    /// <summary>
    /// KEY_FILE_POLL_INTERVAL: how often the key file is re-read (ms). A change is taken once two reads agree, so every
    /// process has it within two intervals (10 s by default), and the pool a KEY_CHECK_INTERVAL later.
    /// </summary>
    [ConfigurationKeyName("KEY_FILE_POLL_INTERVAL")]
    public long FilePollIntervalMs { get; set; } = 5_000;

    /// <summary>GEMINI_BASE_URL: where the silos' key probes go (the frontends forward there too).</summary>
    [ConfigurationKeyName("GEMINI_BASE_URL")]
    public string GeminiBaseUrl { get; set; } = "https://generativelanguage.googleapis.com";

    public IReadOnlyList<string> Keys => UpstreamKeyList.Parse(Raw);

    public bool HasFile => !string.IsNullOrWhiteSpace(File);

    public TimeSpan FilePollInterval => TimeSpan.FromMilliseconds(FilePollIntervalMs);
}

internal sealed class UpstreamKeysOptionsValidator : IValidateOptions<UpstreamKeysOptions>
{
    public ValidateOptionsResult Validate(string? name, UpstreamKeysOptions options)
    {
        List<string> failures = [];
        var fileKeys = 0;
        if (options.HasFile)
        {
            try
            {
                fileKeys = UpstreamKeyFile.Parse(System.IO.File.ReadAllText(options.File!)).Count;
            }
            catch (Hosting.ListFiles.ListFileFormatException ex)
            {
                failures.Add($"GEMINI_API_KEY_FILE ({options.File}): {ex.Message}. Each line is a key, then optional project=, tier=free|paid, weight=1..{KeyAttributes.MaxWeight}, note=.");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                failures.Add($"GEMINI_API_KEY_FILE ({options.File}) cannot be read ({ex.GetType().Name}): mount the key file there, or unset it.");
            }
        }
        if (failures.Count == 0 && options.Keys.Count == 0 && fileKeys == 0)
        {
            failures.Add(options.HasFile
                ? $"GEMINI_API_KEY is empty and GEMINI_API_KEY_FILE ({options.File}) holds no key: put one or more Gemini API keys in either."
                : "GEMINI_API_KEY is empty: set it to one or more Gemini API keys separated by commas, or set GEMINI_API_KEY_FILE to a key file.");
        }
        if (options.FilePollIntervalMs is < 100 or > 5_000)
        {
            failures.Add($"KEY_FILE_POLL_INTERVAL is {options.FilePollIntervalMs}: set it between 100 and 5000 milliseconds (default 5000).");
        }
        if (!Uri.TryCreate(options.GeminiBaseUrl, UriKind.Absolute, out _))
        {
            failures.Add($"GEMINI_BASE_URL '{options.GeminiBaseUrl}' is not an absolute URL: set it to https://generativelanguage.googleapis.com or your proxy.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
