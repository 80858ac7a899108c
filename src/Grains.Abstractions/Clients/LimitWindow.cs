namespace GeminiParty;

/// <summary>One window as the <c>x-ratelimit-*</c> headers show it.</summary>
/// <param name="Limit">The limit of the window.</param>
/// <param name="Remaining">What is left after the request just admitted (or refused).</param>
/// <param name="ResetIn">When the window gives back room: the oldest request leaving the minute, or the Pacific midnight.</param>
[GenerateSerializer, Immutable, Alias("gp.LimitWindow")]
public readonly record struct LimitWindow(
    [property: Id(0)] long Limit,
    [property: Id(1)] long Remaining,
    [property: Id(2)] TimeSpan ResetIn);
