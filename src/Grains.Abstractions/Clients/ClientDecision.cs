namespace GeminiParty;

/// <summary>The client grain's answer to one request.</summary>
/// <param name="Refusal">None when admitted; otherwise the limit that refused it.</param>
/// <param name="RetryAfter">For a refusal: when the refusing window has room again.</param>
/// <param name="Slot">The concurrency slot the request holds (0: none); give it back with CompleteAsync.</param>
/// <param name="Requests">The request window (rpm, or rpd when only that is set), for the headers.</param>
/// <param name="Tokens">The daily token window, for the headers.</param>
[GenerateSerializer, Immutable, Alias("gp.ClientDecision")]
public sealed record ClientDecision(
    [property: Id(0)] ClientRefusal Refusal,
    [property: Id(1)] TimeSpan RetryAfter,
    [property: Id(2)] long Slot,
    [property: Id(3)] LimitWindow? Requests,
    [property: Id(4)] LimitWindow? Tokens)
{
    public bool Admitted => Refusal == ClientRefusal.None;
}
