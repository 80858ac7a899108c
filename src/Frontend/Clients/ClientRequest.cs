namespace GeminiParty.Frontend.Clients;

/// <summary>
/// One request as its client's limits and usage see it, from admission to completion. The forwarding engine finds it
/// on the request (<see cref="Of"/>) to hand over the tokens upstream reported (<see cref="Used"/>).
/// </summary>
public sealed class ClientRequest(ClientPolicy client, string model, ClientDecision? decision)
{
    private int _completed;

    public ClientPolicy Client { get; } = client;

    public string Model { get; } = model;

    /// <summary>The client grain's decision; null when the client has no limits and no grain was asked.</summary>
    public ClientDecision? Decision { get; } = decision;

    /// <summary>Set when the client's limits or allowlist refused the request: it goes no further.</summary>
    public ClientRefusalAnswer? Refused { get; init; }

    /// <summary>False when the request was refused (<see cref="Refused"/>).</summary>
    public bool Admitted => Refused is null;

    /// <summary>The tokens of the answer, as upstream's usage reported them.</summary>
    public TokenCounts? Tokens { get; private set; }

    public void Used(TokenCounts? tokens) => Tokens = tokens;

    /// <summary>True the first time only: a request's slot and usage are settled once, by whichever path ends it.</summary>
    internal bool TryComplete() => Interlocked.Exchange(ref _completed, 1) == 0;

    public static ClientRequest? Of(HttpContext context) => context.Features.Get<ClientRequest>();
}
