namespace GeminiParty.FakeGemini;

/// <summary>
/// Holds streams after their first event until a test releases them. A stream counts as held from just before its
/// first event is written, not from when it starts waiting: a client that has read the first event and asks for
/// <see cref="Held"/> must find its stream counted.
/// </summary>
internal sealed class StreamGate
{
    private TaskCompletionSource _release = NewGate();
    private int _held;

    public int Held => Volatile.Read(ref _held);

    /// <summary>Counts a stream as held, bound to the streams that the next <see cref="ReleaseAll"/> releases.</summary>
    public HeldStream Hold()
    {
        var gate = Volatile.Read(ref _release);
        Interlocked.Increment(ref _held);
        return new HeldStream(this, gate.Task);
    }

    /// <summary>Releases the streams held now; streams that arrive later are held again while the option is on.</summary>
    public void ReleaseAll() => Interlocked.Exchange(ref _release, NewGate()).TrySetResult();

    internal void Left() => Interlocked.Decrement(ref _held);

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
