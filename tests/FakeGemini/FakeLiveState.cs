using System.Collections.Concurrent;

namespace GeminiParty.FakeGemini;

/// <summary>The fake Live API's scripted refusals per key and the sessions it has seen.</summary>
public sealed class FakeLiveState
{
    private readonly ConcurrentDictionary<string, Fault> _faults = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedLiveSession> _sessions = new();
    private int _open;

    /// <summary>Every connection attempt, refused ones included, in arrival order.</summary>
    public IReadOnlyList<RecordedLiveSession> Sessions => _sessions.ToArray();

    /// <summary>Sessions upgraded and not ended yet.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>The next <paramref name="times"/> connections with <paramref name="key"/> meet <paramref name="fault"/>.</summary>
    public void SetFault(string key, LiveFaultKind fault, int times = int.MaxValue)
    {
        if (times <= 0)
        {
            _faults.TryRemove(key, out _);
            return;
        }
        _faults[key] = new Fault(fault, times);
    }

    public void ClearFaults() => _faults.Clear();

    public void Reset()
    {
        _faults.Clear();
        _sessions.Clear();
    }

    internal LiveFaultKind? TakeFault(string? key)
    {
        if (key is null || !_faults.TryGetValue(key, out var fault))
        {
            return null;
        }
        if (fault.Remaining != int.MaxValue && Interlocked.Decrement(ref fault.Remaining) <= 0)
        {
            _faults.TryRemove(KeyValuePair.Create(key, fault));
            if (fault.Remaining < 0)
            {
                return null;
            }
        }
        return fault.Kind;
    }

    internal void Record(RecordedLiveSession session) => _sessions.Enqueue(session);

    internal void Opened() => Interlocked.Increment(ref _open);

    internal void Closed() => Interlocked.Decrement(ref _open);

    private sealed class Fault(LiveFaultKind kind, int times)
    {
        public readonly LiveFaultKind Kind = kind;
        public int Remaining = times;
    }
}
