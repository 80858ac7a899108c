using Microsoft.Extensions.Options;

namespace GeminiParty.Hosting;

/// <summary>
/// Probes a key with <c>GET v1beta/models?pageSize=1</c>, which costs no quota: a valid key gets 200, an invalid one
/// 400 API_KEY_INVALID (or 401/403 when suspended or lacking permission). The key goes in <c>x-goog-api-key</c>, never
/// in the URL, so no proxy or access log sees it.
/// </summary>
public sealed class HttpKeyProber(UpstreamKeySource keys, IOptions<UpstreamKeysOptions> options) : IKeyProber, IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ActivityHeadersPropagator = null,
    })
    {
        BaseAddress = new Uri(options.Value.GeminiBaseUrl.TrimEnd('/') + "/"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>The User-Agent of probe calls.</summary>
    public const string ProbeUserAgent = "gemini-party-key-probe";

    public async Task<KeyProbeResult> ProbeAsync(string fingerprint, CancellationToken cancellationToken)
    {
        if (!keys.Current.SecretByFingerprint.TryGetValue(fingerprint, out var secret))
        {
            return KeyProbeResult.NotHeld;
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1beta/models?pageSize=1");
        request.Headers.TryAddWithoutValidation("x-goog-api-key", secret);
        // says what the call is, to an egress proxy or a test double counting a key's requests
        request.Headers.TryAddWithoutValidation("User-Agent", ProbeUserAgent);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return Classify((int)response.StatusCode);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return KeyProbeResult.Inconclusive;
        }
    }

    /// <summary>A 429 still says the key is valid; on a list call a 400 can only be about the key.</summary>
    internal static KeyProbeResult Classify(int status) => status switch
    {
        >= 200 and < 300 or 429 => KeyProbeResult.Passed,
        400 or 401 or 403 => KeyProbeResult.Invalid,
        _ => KeyProbeResult.Inconclusive,
    };

    public void Dispose() => _http.Dispose();
}
