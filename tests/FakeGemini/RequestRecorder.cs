using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace GeminiParty.FakeGemini;

/// <summary>What tests assert on: the requests seen, counts per key, and requests the client abandoned.</summary>
internal sealed class RequestRecorder
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, StrongBox<int>> _perKey = new(StringComparer.Ordinal);
    private int _total;
    private int _cancelled;

    public int Total => Volatile.Read(ref _total);

    public int Cancelled => Volatile.Read(ref _cancelled);

    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    /// <summary>
    /// Counted on arrival, so a held or hanging request already shows in <see cref="CountFor"/>; returns the request's
    /// place in the order of arrival (from 1).
    /// </summary>
    public int Arrived(string? apiKey)
    {
        var place = Interlocked.Increment(ref _total);
        if (!string.IsNullOrEmpty(apiKey))
        {
            Interlocked.Increment(ref _perKey.GetOrAdd(apiKey, static _ => new StrongBox<int>()).Value);
        }
        return place;
    }

    public void Completed(RecordedRequest request) => _requests.Enqueue(request);

    public void ClientCancelled() => Interlocked.Increment(ref _cancelled);

    public int CountFor(string apiKey) => _perKey.TryGetValue(apiKey, out var box) ? Volatile.Read(ref box.Value) : 0;

    public IReadOnlyDictionary<string, int> PerKey() =>
        _perKey.ToDictionary(pair => pair.Key, pair => Volatile.Read(ref pair.Value.Value), StringComparer.Ordinal);

    public void Reset()
    {
        _requests.Clear();
        _perKey.Clear();
        Interlocked.Exchange(ref _total, 0);
        Interlocked.Exchange(ref _cancelled, 0);
    }
}
