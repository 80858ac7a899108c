namespace GeminiParty.Frontend.Clients;

/// <summary>
/// Why a client's request was turned away, as its answer says it: 403 (model allowlist, Live API not allowed), 429 (a
/// limit, with when to retry) or 503 (the client's grain not reachable). An HTTP route writes it in its surface's error
/// shape; a Live session already upgraded gets it as a close (<see cref="Live.LiveProxy"/>).
/// </summary>
public sealed record ClientRefusalAnswer(int Status, string Message, TimeSpan? RetryAfter = null);
