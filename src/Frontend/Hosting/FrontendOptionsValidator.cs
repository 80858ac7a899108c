using GeminiParty.Frontend.Clients;
using GeminiParty.Hosting.ListFiles;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Hosting;

internal sealed class FrontendOptionsValidator : IValidateOptions<FrontendOptions>
{
    private static readonly HashSet<string> Thresholds = new(StringComparer.Ordinal)
    {
        "BLOCK_NONE", "BLOCK_ONLY_HIGH", "BLOCK_MEDIUM_AND_ABOVE", "BLOCK_LOW_AND_ABOVE", "OFF",
        "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
    };

    public ValidateOptionsResult Validate(string? name, FrontendOptions options)
    {
        List<string> failures = [];
        var clientsFile = options.ClientsFile?.Trim();
        if (options.Tokens.Count == 0 && string.IsNullOrEmpty(clientsFile))
        {
            failures.Add("AUTH_TOKEN is empty: set it to one or more client tokens separated by commas, or set CLIENTS_FILE to a file of named clients (then AUTH_TOKEN may stay empty); clients send a token as 'Authorization: Bearer <token>'.");
        }
        if (!string.IsNullOrEmpty(clientsFile))
        {
            try
            {
                ClientList.Parse(File.ReadAllText(clientsFile));
            }
            catch (ListFileFormatException ex)
            {
                failures.Add($"CLIENTS_FILE {clientsFile}: {ex.Message}. Each line is: name token-or-sha256:hex [rpm=N] [rpd=N] [tpd=N] [concurrency=N] [models=a,b-*] [live=false].");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                failures.Add($"CLIENTS_FILE {clientsFile} cannot be read ({ex.GetType().Name}): point it at a readable file of named clients, or unset it.");
            }
        }
        if (!Uri.TryCreate(options.GeminiBaseUrl, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            failures.Add($"GEMINI_BASE_URL '{options.GeminiBaseUrl}' is not an http(s) URL: set it to https://generativelanguage.googleapis.com or your upstream.");
        }
        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"PORT is {options.Port}: set it to a TCP port between 1 and 65535 (default 3000).");
        }
        if (options.MaxAttempts is < 1 or > 20)
        {
            failures.Add($"DEFAULT_MAX_RETRIES is {options.MaxAttempts}: set it between 1 and 20 attempts per request (default 3).");
        }
        if (options.LeaseBatch is < 1 or > IKeyPoolGrain.MaxLeaseCount)
        {
            failures.Add($"LEASE_BATCH is {options.LeaseBatch}: set it between 1 and {IKeyPoolGrain.MaxLeaseCount} keys a frontend may lease ahead per model (default 64; 1 turns read-ahead off).");
        }
        if (options.MaxRequestBodyMb is < 1 or > 1024)
        {
            failures.Add($"MAX_REQUEST_BODY_MB is {options.MaxRequestBodyMb}: set it between 1 and 1024 (default 30).");
        }
        if (options.MaxUploadMb is < 1 or > 1024 * 1024)
        {
            failures.Add($"MAX_UPLOAD_MB is {options.MaxUploadMb}: set it between 1 and 1048576 (default 2048, Google's file size limit).");
        }
        if (options.MaxAffinityWaitMs is < 0 or > 600_000)
        {
            failures.Add($"MAX_AFFINITY_WAIT is {options.MaxAffinityWaitMs}: set it between 0 and 600000 ms (default 10000).");
        }
        if (!string.IsNullOrWhiteSpace(options.PublicBaseUrl)
            && (!Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var publicUri) || publicUri.Scheme is not ("http" or "https")))
        {
            failures.Add($"PUBLIC_BASE_URL '{options.PublicBaseUrl}' is not an http(s) URL: set it to the address clients reach this gateway at, e.g. https://gemini.example.com.");
        }
        if (CorsOrigins.Parse(options.CorsOriginList, out var corsError) is null)
        {
            failures.Add($"CORS_ORIGINS is not valid: {corsError}. Set it to * (any web page may call, the default), a comma-separated list of origins, or off.");
        }
        if (options.UpstreamTimeoutMs < 1000 || options.StreamIdleTimeoutMs < 1000)
        {
            failures.Add("UPSTREAM_TIMEOUT and STREAM_IDLE_TIMEOUT are milliseconds and must be at least 1000 (defaults 600000 and 300000).");
        }
        if (options.StreamKeepAliveMs < 0 || options.StreamKeepAliveMs is > 0 and < 100)
        {
            failures.Add($"STREAM_KEEPALIVE is {options.StreamKeepAliveMs}: set it to the milliseconds of silence after which a stream gets a keep-alive comment, at least 100 (default 15000), or 0 to turn keep-alives off.");
        }
        if (options.MaxWaitMs is < 0 or > 600_000)
        {
            failures.Add($"MAX_WAIT is {options.MaxWaitMs}: set it to the milliseconds a request may wait for a cooling key to come back, between 0 (answer 429 at once) and 600000 (default 30000).");
        }
        if (Forwarding.ModelFallbacks.Parse(options.ModelFallbacks, out var fallbackError) is null)
        {
            failures.Add($"MODEL_FALLBACKS is not valid: {fallbackError}. Separate chains by commas and the models of a chain by '>', e.g. gemini-2.5-pro>gemini-2.5-flash>gemini-2.5-flash-lite,gemini-2.0-flash>gemini-2.0-flash-lite.");
        }
        if (options.MaxWaiting is < 1 or > 1_000_000)
        {
            failures.Add($"MAX_WAITING is {options.MaxWaiting}: set it to the most requests of one model that may wait in its line (across every frontend), between 1 and 1000000 (default 1000).");
        }
        if (options.ApiPrefix is { } prefix && prefix.Trim().Trim('/').Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '/' or '.')))
        {
            failures.Add($"API_PREFIX '{prefix}' has characters a path cannot hold: use letters, digits, '-', '_', '.' and '/'.");
        }
        foreach (var (category, threshold) in options.SafetyThresholds)
        {
            if (!Thresholds.Contains(threshold))
            {
                failures.Add($"{category} is '{threshold}': set it to one of {string.Join(", ", Thresholds)}.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
