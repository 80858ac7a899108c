using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace GeminiParty.Hosting;

/// <summary>GEMINI_API_KEY: the upstream keys, comma and/or newline separated. Read by frontends and silos alike.</summary>
public sealed class UpstreamKeysOptions
{
    [ConfigurationKeyName("GEMINI_API_KEY")]
    public string? Raw { get; set; }

    public IReadOnlyList<string> Keys => UpstreamKeyList.Parse(Raw);
}

internal sealed class UpstreamKeysOptionsValidator : IValidateOptions<UpstreamKeysOptions>
{
    public ValidateOptionsResult Validate(string? name, UpstreamKeysOptions options) =>
        options.Keys.Count == 0
            ? ValidateOptionsResult.Fail("GEMINI_API_KEY is empty: set it to one or more Gemini API keys separated by commas.")
            : ValidateOptionsResult.Success;
}
