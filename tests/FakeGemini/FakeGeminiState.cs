using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace GeminiParty.FakeGemini;

/// <summary>Everything one fake server instance shares between its endpoints.</summary>
internal sealed class FakeGeminiState(FakeGeminiOptions options)
{
    private readonly FrozenSet<string> _validKeys = options.ValidKeys.ToFrozenSet(StringComparer.Ordinal);

    public FakeGeminiOptions Options { get; } = options;

    public bool FastMode { get; } = options.FastMode;

    public FaultSchedule Faults { get; } = new();

    public RequestRecorder Recorder { get; } = new();

    public StreamGate Streams { get; } = new();

    public FakeLiveState Live { get; } = new();

    /// <summary>Files, caches, batches, operations, File Search stores and interactions, each owned by the key that made it.</summary>
    public FakeResources Resources { get; } = new();

    private long _connections;

    /// <summary>Connections accepted so far: a proxy that does not keep its upstream connections alive opens many.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    public void ConnectionAccepted() => Interlocked.Increment(ref _connections);

    private readonly ConcurrentDictionary<string, byte[]> _fixedBodies = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Fires when the server is disposed, so hanging requests end at once instead of at the shutdown timeout.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public void SignalStopping() => _stopping.Cancel();

    private readonly ConcurrentDictionary<string, bool> _revoked = new(StringComparer.Ordinal);

    public bool IsValidKey(string key) => !_revoked.ContainsKey(key) && (_validKeys.Count == 0 || _validKeys.Contains(key));

    /// <summary>Makes a key answer 400 API_KEY_INVALID from now on, as Google does for a deleted key.</summary>
    public void Revoke(string key) => _revoked[key] = true;

    /// <summary>Makes a revoked key valid again.</summary>
    public void Restore(string key) => _revoked.TryRemove(key, out _);

    /// <summary>In fast mode a body is built once per cache key and replayed; otherwise it is built fresh.</summary>
    public byte[] Body(string cacheKey, Func<byte[]> build) =>
        FastMode ? _fixedBodies.GetOrAdd(cacheKey, static (_, build) => build(), build) : build();

    public void Reset()
    {
        Faults.Clear();
        Recorder.Reset();
        _revoked.Clear();
        Live.Reset();
    }
}
