namespace GeminiParty;

/// <summary>What one upstream attempt said about the key that made it.</summary>
public enum UpstreamOutcome
{
    /// <summary>2xx: the key works.</summary>
    Success = 0,
    /// <summary>The request itself was wrong (400, 404, ...): not the key's fault, not counted against it.</summary>
    ClientError = 1,
    /// <summary>Per-minute rate limit: the key cools down for that model.</summary>
    RateLimited = 2,
    /// <summary>Daily quota: the key is benched for that model until the Pacific midnight.</summary>
    DailyQuotaExhausted = 3,
    /// <summary>The key is invalid, suspended or lacks permission: out for every model.</summary>
    InvalidKey = 4,
    /// <summary>Upstream overloaded, internal error or connection failure: retry elsewhere, no penalty.</summary>
    Transient = 5,
    /// <summary>Upstream deadline exceeded: returned to the client, not retried, not the key's fault.</summary>
    Timeout = 6,
    /// <summary>
    /// The client closed its connection before its answer started (logged as 499): upstream may have served, and
    /// metered, the call all the same. Neither a failure nor the key's fault.
    /// </summary>
    ClientClosed = 7,
}

public static class UpstreamOutcomeExtensions
{
    /// <summary>Whether another key may succeed where this one failed.</summary>
    public static bool IsRetryable(this UpstreamOutcome outcome) => outcome is
        UpstreamOutcome.RateLimited or UpstreamOutcome.DailyQuotaExhausted or
        UpstreamOutcome.InvalidKey or UpstreamOutcome.Transient;

    /// <summary>Whether the pool must change (and persist) the key's state before the failure is acknowledged.</summary>
    public static bool ChangesKeyState(this UpstreamOutcome outcome) => outcome is
        UpstreamOutcome.RateLimited or UpstreamOutcome.DailyQuotaExhausted or UpstreamOutcome.InvalidKey;
}
