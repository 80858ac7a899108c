namespace GeminiParty;

/// <summary>
/// The pool's answer to a request joining the line of a model whose keys all cool (<see cref="IKeyPoolGrain.JoinLineAsync"/>).
/// </summary>
/// <param name="Id">The request's place in the line, to claim a key with; 0 when it was not let in.</param>
/// <param name="ExpectedAt">
/// When the pool expects a key for it (the first cooling key's return; now when one is usable already); when refused,
/// when the first key returns (null when none will: every key is invalid).
/// </param>
/// <param name="LineFull">Refused because the model's line already holds MAX_WAITING requests.</param>
/// <param name="Place">The request's place in the line when it joined (1: the head).</param>
[GenerateSerializer, Immutable, Alias("gp.WaitTicket")]
public sealed record WaitTicket(
    [property: Id(0)] long Id,
    [property: Id(1)] DateTimeOffset? ExpectedAt,
    [property: Id(2)] bool LineFull = false,
    [property: Id(3)] int Place = 0)
{
    /// <summary>Whether the request has a place in the line.</summary>
    public bool Admitted => Id != 0;
}
