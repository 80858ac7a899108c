namespace GeminiParty;

/// <summary>The result of one upstream attempt with a leased key, as the frontend reports it to the pool.</summary>
/// <param name="Key">The key that made the attempt.</param>
/// <param name="Model">The model the attempt was for (rotation and cooldowns are per model).</param>
/// <param name="Outcome">The class the error classifier gave the answer.</param>
/// <param name="RetryDelay">Upstream's RetryInfo.retryDelay, when it gave one.</param>
/// <param name="Reason">A short, secret-free description (e.g. "429 RESOURCE_EXHAUSTED PerMinute").</param>
/// <param name="Tokens">On a success whose answer reported usage: the tokens it used.</param>
/// <param name="NoKeyServed">
/// A transient failure of a request that no key served in the end (every attempt failed, or the client gave up): it
/// says more about the request than about this key (Google answers some requests 500 on every key), so it does not
/// count toward KEY_TRANSIENT_LIMIT. A transient failure that another key then served does.
/// </param>
[GenerateSerializer, Immutable, Alias("gp.AttemptReport")]
public sealed record AttemptReport(
    [property: Id(0)] KeyAlias Key,
    [property: Id(1)] string Model,
    [property: Id(2)] UpstreamOutcome Outcome,
    [property: Id(3)] TimeSpan? RetryDelay = null,
    [property: Id(4)] string? Reason = null,
    [property: Id(5)] TokenCounts? Tokens = null,
    [property: Id(6)] bool NoKeyServed = false);
