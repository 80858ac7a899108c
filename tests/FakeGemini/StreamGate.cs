namespace GeminiParty.FakeGemini;

/// <summary>Holds streams after their first event until a test releases them.</summary>
internal sealed class StreamGate
{
    private TaskCompletionSource _release = NewGate();
    private int _held;

    public int Held => Volatile.Read(ref _held);

    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        var gate = Volatile.Read(ref _release);
        Interlocked.Increment(ref _held);
        try
        {
            await gate.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _held);
        }
    }

    /// <summary>Releases the streams held now; streams that arrive later are held again while the option is on.</summary>
    public void ReleaseAll() => Interlocked.Exchange(ref _release, NewGate()).TrySetResult();

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
