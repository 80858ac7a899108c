using System.Diagnostics.Metrics;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Resources;

namespace GeminiParty.Frontend.Observability;

/// <summary>
/// Key counts for the observable gauges, from one pool status of at most <see cref="MaxAge"/> ago. A scrape of /metrics
/// refreshes it first when it is stale (one grain call for all models, shared by concurrent scrapes); gauge callbacks
/// never call a grain, they read the last snapshot.
/// </summary>
public sealed partial class PoolGauges(KeyPoolReference pool, ClusterMembership membership, KeyResourceCounts resourceCounts, TimeProvider time,
    ILogger<PoolGauges> logger)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private Snapshot? _snapshot;
    private Task? _refreshing;

    /// <summary>Gets a new snapshot if the last one is older than <see cref="MaxAge"/>; concurrent callers share one refresh.</summary>
    public Task RefreshIfStaleAsync()
    {
        lock (_lock)
        {
            if (_snapshot is { } last && time.GetUtcNow() - last.At < MaxAge)
            {
                return Task.CompletedTask;
            }
            if (_refreshing is null || _refreshing.IsCompleted)
            {
                _refreshing = RefreshAsync();
            }
            return _refreshing;
        }
    }

    public IEnumerable<Measurement<int>> UsableKeys()
    {
        _ = RefreshIfStaleAsync(); // for exporters that collect without a scrape request
        return _snapshot?.Usable ?? [];
    }

    public IEnumerable<Measurement<int>> KeysByState() => _snapshot?.ByState ?? [];

    /// <summary>Requests in each model's line in the pool (every frontend's), from the same snapshot.</summary>
    public IEnumerable<Measurement<int>> Waiting() => _snapshot?.Waiting ?? [];

    /// <summary>Silos in the cluster's membership by status (active, joining, shutting_down, stopping, dead), from the same refresh.</summary>
    public IEnumerable<Measurement<int>> Silos() => _silos;

    private Measurement<int>[] _silos = [];

    /// <summary>Key probes the cluster ran (the pool's totals, persisted with the keys), by result.</summary>
    public IEnumerable<Measurement<long>> Probes() => _snapshot?.Probes ?? [];

    /// <summary>Affinity waits per key (not removed) and model, the pool's totals, from the same snapshot.</summary>
    public IEnumerable<Measurement<long>> AffinityWaits() => _snapshot?.AffinityWaits ?? [];

    /// <summary>Live resources per key (not removed) and collection, from the same refresh.</summary>
    public IEnumerable<Measurement<int>> Resources() => _resources;

    private Measurement<int>[] _resources = [];

    private async Task RefreshAsync()
    {
        try
        {
            var silos = membership.SilosAsync();
            var status = await pool.Reference.GetStatusAsync();
            _snapshot = Summarize(status, time.GetUtcNow());
            var kept = status.Keys.Where(key => !key.Removed).Select(key => key.Key).ToArray();
            var held = await resourceCounts.ReadAsync(kept.Select(key => key.Fingerprint));
            _resources = [.. kept.SelectMany(key => ResourceCounts.Collections.Select(collection => new Measurement<int>(
                held.GetValueOrDefault(key.Fingerprint)?.Of(collection) ?? 0,
                new KeyValuePair<string, object?>("key", key.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new KeyValuePair<string, object?>("collection", collection))))];
            if (await silos is { } views)
            {
                _silos = [.. new[] { "Active", "Joining", "ShuttingDown", "Stopping", "Dead" }.Select(state => new Measurement<int>(
                    views.Count(view => view.Status == state), new KeyValuePair<string, object?>("status", Snake(state))))];
            }
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            LogRefreshFailed(logger, ex); // keep the last snapshot: a gap is worse than a stale value
        }
    }

    private static string Snake(string state) =>
        string.Concat(state.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    internal static Snapshot Summarize(PoolStatus status, DateTimeOffset at)
    {
        var cooling = new Dictionary<string, int>(StringComparer.Ordinal);
        int invalid = 0, coolingKeys = 0, disabled = 0, removed = 0;
        long passed = 0, failed = 0;
        var affinityWaits = new List<Measurement<long>>();
        foreach (var key in status.Keys)
        {
            passed += key.Probe?.Passed ?? 0;
            failed += key.Probe?.Failed ?? 0;
            foreach (var model in key.Lifetime.Keys)
            {
                cooling.TryAdd(model, 0);
            }
            if (key.Removed)
            {
                removed++;
                continue;
            }
            foreach (var (model, counters) in key.Lifetime)
            {
                if (counters.AffinityWaits > 0)
                {
                    affinityWaits.Add(new Measurement<long>(counters.AffinityWaits,
                        new KeyValuePair<string, object?>("key", key.Key.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                        new KeyValuePair<string, object?>("model", model)));
                }
            }
            if (key.Disabled is not null)
            {
                disabled++;
                continue;
            }
            if (key.Invalid is not null)
            {
                invalid++;
                continue;
            }
            if (key.Cooldowns.Count > 0)
            {
                coolingKeys++;
            }
            foreach (var model in key.Cooldowns.Keys)
            {
                cooling[model] = cooling.GetValueOrDefault(model) + 1;
            }
        }
        var usable = status.Keys.Count - invalid - disabled - removed;
        return new Snapshot(
            at,
            cooling.Select(pair => new Measurement<int>(usable - pair.Value, new KeyValuePair<string, object?>("model", pair.Key))).ToArray(),
            [
                new Measurement<int>(usable - coolingKeys, new KeyValuePair<string, object?>("state", "active")),
                new Measurement<int>(coolingKeys, new KeyValuePair<string, object?>("state", "cooling")),
                new Measurement<int>(invalid, new KeyValuePair<string, object?>("state", "invalid")),
                new Measurement<int>(disabled, new KeyValuePair<string, object?>("state", "disabled")),
                new Measurement<int>(removed, new KeyValuePair<string, object?>("state", "removed")),
            ],
            [
                new Measurement<long>(passed, new KeyValuePair<string, object?>("result", "passed")),
                new Measurement<long>(failed, new KeyValuePair<string, object?>("result", "failed")),
            ],
            // a model whose line emptied shows 0 while it has counters, rather than vanishing from the series
            cooling.Keys.Concat(status.Waiting?.Keys ?? []).Distinct(StringComparer.Ordinal)
                .Select(model => new Measurement<int>(status.Waiting?.GetValueOrDefault(model) ?? 0, new KeyValuePair<string, object?>("model", model)))
                .ToArray(),
            [.. affinityWaits]);
    }

    internal sealed record Snapshot(DateTimeOffset At, Measurement<int>[] Usable, Measurement<int>[] ByState, Measurement<long>[] Probes,
        Measurement<int>[] Waiting, Measurement<long>[] AffinityWaits);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Could not read the pool status for the key gauges; /metrics shows the last one")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
