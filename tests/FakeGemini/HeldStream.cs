namespace GeminiParty.FakeGemini;

/// <summary>One stream counted in <see cref="StreamGate.Held"/> until it is released, cancelled or ends.</summary>
internal sealed class HeldStream(StreamGate gate, Task release) : IDisposable
{
    private int _left;

    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await release.WaitAsync(cancellationToken);
        }
        finally
        {
            Dispose();
        }
    }

    /// <summary>Leaves the count once, whether the stream was released or broke off before it waited.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _left, 1) == 0)
        {
            gate.Left();
        }
    }
}
