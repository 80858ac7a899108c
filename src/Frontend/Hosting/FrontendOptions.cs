namespace GeminiParty.Frontend.Hosting;

/// <summary>What the frontend needs to serve clients and reach upstream. Bound from the original's flat names.</summary>
public sealed class FrontendOptions
{
    /// <summary>AUTH_TOKEN: client tokens, comma separated.</summary>
    [ConfigurationKeyName("AUTH_TOKEN")]
    public string? AuthTokens { get; set; }

    /// <summary>
    /// CLIENTS_FILE: a file of named clients, one per line (name, token or sha256:hex, then rpm= rpd= tpd= concurrency=
    /// models= live=), re-read every second. With it set, AUTH_TOKEN may be empty.
    /// </summary>
    [ConfigurationKeyName("CLIENTS_FILE")]
    public string? ClientsFile { get; set; }

    /// <summary>ADMIN_TOKEN: the token of admin routes, apart from client tokens; unset means no admin routes.</summary>
    [ConfigurationKeyName("ADMIN_TOKEN")]
    public string? AdminToken { get; set; }

    /// <summary>API_PREFIX: a path every API route sits under ("hf", "/hf" and "/hf/" all mean "/hf").</summary>
    [ConfigurationKeyName("API_PREFIX")]
    public string? ApiPrefix { get; set; }

    [ConfigurationKeyName("GEMINI_BASE_URL")]
    public string GeminiBaseUrl { get; set; } = "https://generativelanguage.googleapis.com";

    [ConfigurationKeyName("PORT")]
    public int Port { get; set; } = 3000;

    /// <summary>DEFAULT_MAX_RETRIES: attempts per request, each on a different key.</summary>
    [ConfigurationKeyName("DEFAULT_MAX_RETRIES")]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// LEASE_BATCH: the most keys of a model this frontend leases ahead of use under load (at light load it holds none
    /// and rotation is the pool's exact order); 1 turns read-ahead off at any load. Fairness bound: see KeyLeases.
    /// </summary>
    [ConfigurationKeyName("LEASE_BATCH")]
    public int LeaseBatch { get; set; } = 64;

    /// <summary>MAX_REQUEST_BODY_MB: Gemini accepts ~20 MB of inline data, which base64 makes ~27 MB.</summary>
    [ConfigurationKeyName("MAX_REQUEST_BODY_MB")]
    public int MaxRequestBodyMb { get; set; } = 30;

    /// <summary>MAX_UPLOAD_MB: one upload request's body (a chunk, or a whole multipart upload); Google accepts files up to 2 GB.</summary>
    [ConfigurationKeyName("MAX_UPLOAD_MB")]
    public int MaxUploadMb { get; set; } = 2048;

    /// <summary>
    /// MAX_AFFINITY_WAIT (ms): how long a request naming a resource waits for the key that owns it to come back from a
    /// cooldown before it is answered 429.
    /// </summary>
    [ConfigurationKeyName("MAX_AFFINITY_WAIT")]
    public long MaxAffinityWaitMs { get; set; } = 10_000;

    /// <summary>PUBLIC_BASE_URL: the gateway's address as clients reach it, for the upload URLs it hands out.</summary>
    [ConfigurationKeyName("PUBLIC_BASE_URL")]
    public string? PublicBaseUrl { get; set; }

    /// <summary>TRUST_FORWARDED_HEADERS: read the public scheme and host from Forwarded / X-Forwarded-* (behind a proxy you run).</summary>
    [ConfigurationKeyName("TRUST_FORWARDED_HEADERS")]
    public bool TrustForwardedHeaders { get; set; }

    /// <summary>
    /// CORS_ORIGINS: the origins whose web pages may call the gateway from a browser: <c>*</c> (default) any,
    /// a comma-separated list only those, <c>off</c> none (no CORS headers). See <see cref="CorsOrigins"/>.
    /// </summary>
    [ConfigurationKeyName("CORS_ORIGINS")]
    public string? CorsOriginList { get; set; }

    public long MaxUploadBytes => MaxUploadMb * 1024L * 1024L;

    public TimeSpan MaxAffinityWait => TimeSpan.FromMilliseconds(MaxAffinityWaitMs);

    /// <summary>UPSTREAM_TIMEOUT: the longest a non-streaming upstream call may take (ms).</summary>
    [ConfigurationKeyName("UPSTREAM_TIMEOUT")]
    public long UpstreamTimeoutMs { get; set; } = 600_000;

    /// <summary>STREAM_IDLE_TIMEOUT: the longest a stream may stay silent (ms). Thinking models pause for minutes.</summary>
    [ConfigurationKeyName("STREAM_IDLE_TIMEOUT")]
    public long StreamIdleTimeoutMs { get; set; } = 300_000;

    /// <summary>
    /// STREAM_KEEPALIVE: the silence (ms) after which an SSE comment line goes to a streaming client, so proxies in front
    /// of the gateway do not close a stream a thinking model keeps silent; 0 turns it off.
    /// </summary>
    [ConfigurationKeyName("STREAM_KEEPALIVE")]
    public long StreamKeepAliveMs { get; set; } = 15_000;

    /// <summary>
    /// MAX_WAIT: the longest (ms) a request waits for a key of its model to come back when every key is cooling, instead
    /// of an immediate 429; 0 keeps the immediate 429. A client shortens it with <c>x-gemini-party-max-wait</c>.
    /// </summary>
    [ConfigurationKeyName("MAX_WAIT")]
    public long MaxWaitMs { get; set; } = 30_000;

    /// <summary>MAX_WAITING: the most requests of one model waiting in its line, across every frontend; past it, 429 at once.</summary>
    [ConfigurationKeyName("MAX_WAITING")]
    public int MaxWaiting { get; set; } = 1000;

    /// <summary>
    /// MODEL_FALLBACKS: chains separated by commas, models in a chain by '&gt;'; a request whose model's keys all cool
    /// past its wait is served by the next model of its chain. Empty: no fallback.
    /// </summary>
    [ConfigurationKeyName("MODEL_FALLBACKS")]
    public string? ModelFallbacks { get; set; }

    [ConfigurationKeyName("HARM_CATEGORY_HARASSMENT")]
    public string? HarmCategoryHarassment { get; set; }

    [ConfigurationKeyName("HARM_CATEGORY_HATE_SPEECH")]
    public string? HarmCategoryHateSpeech { get; set; }

    [ConfigurationKeyName("HARM_CATEGORY_SEXUALLY_EXPLICIT")]
    public string? HarmCategorySexuallyExplicit { get; set; }

    [ConfigurationKeyName("HARM_CATEGORY_DANGEROUS_CONTENT")]
    public string? HarmCategoryDangerousContent { get; set; }

    [ConfigurationKeyName("HARM_CATEGORY_CIVIC_INTEGRITY")]
    public string? HarmCategoryCivicIntegrity { get; set; }

    public IReadOnlyList<string> Tokens => UpstreamKeyList.Parse(AuthTokens);

    /// <summary>CORS_ORIGINS parsed; the validator has refused a value that does not parse.</summary>
    public CorsOrigins Origins => CorsOrigins.Parse(CorsOriginList, out var error) ?? throw new InvalidOperationException(error);

    public string NormalizedPrefix => string.IsNullOrWhiteSpace(ApiPrefix) ? "" : "/" + ApiPrefix.Trim().Trim('/');

    public Uri BaseUri => new(GeminiBaseUrl.TrimEnd('/') + "/");

    public TimeSpan UpstreamTimeout => TimeSpan.FromMilliseconds(UpstreamTimeoutMs);

    public TimeSpan StreamIdleTimeout => TimeSpan.FromMilliseconds(StreamIdleTimeoutMs);

    /// <summary>STREAM_KEEPALIVE as a span; null when turned off.</summary>
    public TimeSpan? StreamKeepAlive => StreamKeepAliveMs > 0 ? TimeSpan.FromMilliseconds(StreamKeepAliveMs) : null;

    public long MaxRequestBodyBytes => MaxRequestBodyMb * 1024L * 1024L;

    /// <summary>The configured HARM_CATEGORY_* thresholds, by category name.</summary>
    public IReadOnlyDictionary<string, string> SafetyThresholds =>
        new Dictionary<string, string?>
        {
            ["HARM_CATEGORY_HARASSMENT"] = HarmCategoryHarassment,
            ["HARM_CATEGORY_HATE_SPEECH"] = HarmCategoryHateSpeech,
            ["HARM_CATEGORY_SEXUALLY_EXPLICIT"] = HarmCategorySexuallyExplicit,
            ["HARM_CATEGORY_DANGEROUS_CONTENT"] = HarmCategoryDangerousContent,
            ["HARM_CATEGORY_CIVIC_INTEGRITY"] = HarmCategoryCivicIntegrity,
        }
        .Where(pair => !string.IsNullOrWhiteSpace(pair.Value))
        .ToDictionary(pair => pair.Key, pair => pair.Value!.Trim());
}
