using System.Diagnostics.Metrics;
using System.Globalization;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Observability;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// The Live API sessions this frontend has open, per key: exported on /metrics as <c>gemini_party_live_sessions{key}</c>
/// (this replica's sessions: sum over replicas) and sent to the pool by <see cref="LiveSessionReporter"/>, so that
/// /rotation-status shows every replica's sessions from any of them.
/// </summary>
public sealed class LiveSessions
{
    private readonly Lock _gate = new();
    private readonly Dictionary<KeyAlias, int> _open = [];
    private long _version;

    public LiveSessions(IMeterFactory meters)
    {
        var meter = meters.Create(FrontendMetrics.MeterName);
        meter.CreateObservableGauge("gemini_party.live.sessions", Observe, "{session}",
            "Live API (WebSocket) sessions this frontend has open, by key index.");
    }

    /// <summary>Changes with every open and close, so a reporter can tell whether it has sent the latest counts.</summary>
    public long Version => Volatile.Read(ref _version);

    public void Opened(KeyAlias key) => Change(key, +1);

    public void Closed(KeyAlias key) => Change(key, -1);

    /// <summary>The keys with open sessions and their counts, at this moment.</summary>
    public LiveKeySessions[] Snapshot()
    {
        lock (_gate)
        {
            return [.. _open.Select(pair => new LiveKeySessions(pair.Key, pair.Value))];
        }
    }

    private void Change(KeyAlias key, int delta)
    {
        lock (_gate)
        {
            var count = _open.GetValueOrDefault(key) + delta;
            if (count > 0)
            {
                _open[key] = count;
            }
            else
            {
                _open.Remove(key); // keys without sessions are not reported, so the snapshot stays as small as the sessions
            }
            _version++;
        }
    }

    private IEnumerable<Measurement<int>> Observe()
    {
        foreach (var open in Snapshot())
        {
            yield return new Measurement<int>(open.Sessions, new KeyValuePair<string, object?>("key", open.Key.Index.ToString(CultureInfo.InvariantCulture)));
        }
    }
}
