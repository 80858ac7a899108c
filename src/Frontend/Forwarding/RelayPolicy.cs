namespace GeminiParty.Frontend.Forwarding;

/// <summary>What a <see cref="RelayedStream"/> does besides counting: hold back an answer, keep a silent stream alive.</summary>
/// <param name="Check">Holds the answer back until it shows a reply; null passes bytes on as they come.</param>
/// <param name="Streaming">The answer is a stream (checked up to its first reply) rather than one body (checked whole).</param>
/// <param name="KeepAlive">The silence after which an SSE comment goes to the client; null for no keep-alives.</param>
/// <param name="IdleTimeout">The longest upstream may stay silent (STREAM_IDLE_TIMEOUT), kept while keep-alives flow.</param>
/// <param name="BeforeRelease">
/// Gets the whole answer (when it is at most <see cref="MaxHeldBytes"/>) before any byte of it goes on: the resources
/// it names are bound to their key first, so the client's next request, through any frontend, finds their owner.
/// </param>
public sealed record RelayPolicy(EmptyAnswerCheck? Check, bool Streaming, TimeSpan? KeepAlive, TimeSpan IdleTimeout, TimeProvider Time,
    Func<ReadOnlyMemory<byte>, Task>? BeforeRelease = null)
{
    /// <summary>
    /// The most bytes held back; past it the answer is passed on as it comes, so a large answer (inline images) is never
    /// held whole. Create answers and resource metadata are far smaller.
    /// </summary>
    public const int MaxHeldBytes = 1024 * 1024;

    /// <summary>An SSE comment line: every SSE parser skips it (https://html.spec.whatwg.org/multipage/server-sent-events.html).</summary>
    public static readonly ReadOnlyMemory<byte> KeepAliveComment = ": keep-alive\n\n"u8.ToArray();

    /// <summary>
    /// The answer is a stream that names its resource in its first event (an interaction's <c>interaction.created</c>):
    /// <see cref="BeforeRelease"/> gets that event, and the rest flows as it comes instead of being held whole.
    /// </summary>
    public bool BindsFirstEvent { get; init; }

    /// <summary>The answer is held back before it goes on (for a reply, or whole for the resources it names).</summary>
    public bool Holds => Check is not null || BeforeRelease is not null;
}
