namespace GeminiParty.Frontend.Forwarding;

/// <summary>What a <see cref="RelayedStream"/> does besides counting: hold back an empty answer, keep a silent stream alive.</summary>
/// <param name="Check">Holds the answer back until it shows a reply; null passes bytes on as they come.</param>
/// <param name="Streaming">The answer is a stream (checked up to its first reply) rather than one body (checked whole).</param>
/// <param name="KeepAlive">The silence after which an SSE comment goes to the client; null for no keep-alives.</param>
/// <param name="IdleTimeout">The longest upstream may stay silent (STREAM_IDLE_TIMEOUT), kept while keep-alives flow.</param>
public sealed record RelayPolicy(EmptyAnswerCheck? Check, bool Streaming, TimeSpan? KeepAlive, TimeSpan IdleTimeout, TimeProvider Time)
{
    /// <summary>An SSE comment line: every SSE parser skips it (https://html.spec.whatwg.org/multipage/server-sent-events.html).</summary>
    public static readonly ReadOnlyMemory<byte> KeepAliveComment = ": keep-alive\n\n"u8.ToArray();
}
