namespace GeminiParty.Frontend.Forwarding;

/// <summary>Upstream answered 200 with no candidate and no block reason (see <see cref="EmptyAnswerCheck"/>).</summary>
public sealed class EmptyAnswerException() : Exception("Upstream answered with no candidate.");
