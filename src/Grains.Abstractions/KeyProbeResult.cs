namespace GeminiParty;

/// <summary>What a health probe of one key found.</summary>
public enum KeyProbeResult
{
    /// <summary>Upstream accepted the key (2xx, or a 429: a rate-limited key is a valid one).</summary>
    Passed = 0,
    /// <summary>Upstream refused the key (400 API_KEY_INVALID, 401, 403).</summary>
    Invalid = 1,
    /// <summary>No verdict: a 5xx, a timeout, a connection failure.</summary>
    Inconclusive = 2,
    /// <summary>The silo that hosts the pool does not hold this key (its key file is behind or ahead): tried again soon.</summary>
    NotHeld = 3,
}
