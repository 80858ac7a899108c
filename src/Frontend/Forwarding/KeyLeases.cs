using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Observability;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// This frontend's share of the rotation: requests take keys here in the pool's order. While one pool call at a time
/// serves this frontend's requests, each request waits for its own lease and every key comes from the pool's ring in
/// order. Once requests wait behind one another (at least <see cref="ReadAheadDemand"/> wanted keys during a call),
/// the next pool call is made ahead of need, so most requests make no grain call and do not wait for one. One call per
/// model is in flight at a time; it brings a key for every request waiting, plus read-ahead sized to what this frontend
/// used during the previous call (<see cref="ReadAheadFactor"/> times that, plus one, never more than
/// <c>LEASE_BATCH</c>), and it starts when the keys in hand fall to half of that.
/// </summary>
/// <remarks>
/// Fairness: at light load no key is held and rotation is the pool's exact round robin (each key's use within 1 of any
/// other's). Under load the pool still hands keys out in ring order, and this frontend holds at most
/// <c>LEASE_BATCH</c> keys of a model it has not used yet, so each key at most ⌈LEASE_BATCH / keys⌉ times: over any
/// run of requests without failures each key's use differs from any other's by at most
/// 1 + frontends × ⌈LEASE_BATCH / keys⌉ (docs/cluster.md). State changes reach held keys twice: the frontend that met
/// the failure drops the key at once (<see cref="Withdraw"/>), and the pool tells every frontend holding keys
/// (<see cref="PoolWithdrawals"/>; each lease subscribes this frontend before the keys are chosen) and waits for the
/// answers before the failure is retried. A withdrawal that overtakes the lease it concerns still applies: leases and
/// withdrawals carry the pool's version.
/// </remarks>
public sealed partial class KeyLeases(
    IGrainFactory grains,
    KeyPoolReference pool,
    IOptions<FrontendOptions> options,
    KnownModels known,
    FrontendMetrics metrics,
    ILogger<PoolWithdrawals> withdrawalsLogger)
{
    /// <summary>Keys held ahead, in pool round trips' worth of use (docs/benchmarks.md compares 2 and 4).</summary>
    private const int ReadAheadFactor = 4;

    /// <summary>
    /// Keys wanted during one pool call from which this frontend reads ahead: at 2, some request had to wait for a
    /// whole round trip behind another, which holding keys would have spared it.
    /// </summary>
    private const int ReadAheadDemand = 2;

    /// <summary>The most keys of a model held ahead of use (LEASE_BATCH); 1 turns read-ahead off.</summary>
    private readonly int _aheadLimit = Math.Max(1, options.Value.LeaseBatch);
    private readonly Lock _gate = new();
    private volatile Dictionary<string, ModelLeases> _models = new(StringComparer.Ordinal);
    private int _unknownModels;
    private PoolWithdrawals? _withdrawals;

    /// <summary>The pool's observer on this frontend, which drops the keys it withdraws from this cache.</summary>
    public PoolWithdrawals Withdrawals
    {
        get
        {
            lock (_gate)
            {
                return _withdrawals ??= new PoolWithdrawals(this, grains, withdrawalsLogger);
            }
        }
    }

    /// <summary>The next key for <paramref name="model"/> not in <paramref name="tried"/>, or why there is none.</summary>
    /// <exception cref="OrleansException">The pool could not be reached (and the like): nothing was leased.</exception>
    /// <exception cref="OperationCanceledException">The request was abandoned while waiting for a lease, which goes on for the others.</exception>
    public async ValueTask<LeasedKey> NextAsync(string model, TriedKeys? tried, CancellationToken cancellationToken = default)
    {
        var leases = For(model);
        lock (leases)
        {
            if (leases.TryTake(tried?.Indexes) is { } ready)
            {
                var target = ReadAheadTarget(leases);
                if (target > 0 && leases.Fetching is null && leases.Held * 2 <= target)
                {
                    leases.Fetching = StartFetch(model, leases, tried: null); // down to half the target: read ahead
                }
                return new LeasedKey(ready); // the common case: no await, no allocation beyond the answer
            }
            leases.Waiting++;
        }
        metrics.LeaseWaited(model);
        try
        {
            return await WaitForLeaseAsync(model, leases, tried, cancellationToken);
        }
        finally
        {
            lock (leases)
            {
                leases.Waiting--;
            }
        }
    }

    /// <summary>For a request that found no key held: joins the lease in flight, or starts one for every waiting request.</summary>
    private async Task<LeasedKey> WaitForLeaseAsync(string model, ModelLeases leases, TriedKeys? tried, CancellationToken cancellationToken)
    {
        while (true)
        {
            Fetch fetch;
            lock (leases)
            {
                if (leases.TryTake(tried?.Indexes) is { } ready)
                {
                    return new LeasedKey(ready);
                }
                fetch = leases.Fetching ??= StartFetch(model, leases, tried);
            }
            // not cancelled with this request: the lease serves every request waiting for it
            var lease = await fetch.Lease.WaitAsync(cancellationToken);
            if (lease.Keys.Length == 0 && IsSubset(fetch.Tried, tried?.Indexes))
            {
                return new LeasedKey(null, lease.RetryAt, lease.AllInvalid); // nothing usable for this request either
            }
            // keys arrived (or the lease skipped keys this request may use): take one, or lease again
        }
    }

    private Fetch StartFetch(string model, ModelLeases leases, TriedKeys? tried)
    {
        var ahead = Math.Max(0, ReadAheadTarget(leases) - leases.Held);
        var count = Math.Clamp(ahead + leases.Waiting, 1, IKeyPoolGrain.MaxLeaseCount);
        leases.TakenSinceFetch = 0;
        return new Fetch(tried?.Indexes, LeaseAsync());

        async Task<KeyLease> LeaseAsync()
        {
            await Task.Yield(); // run the grain call outside the caller's lock
            try
            {
                var lease = await pool.Reference.LeaseAsync(model, count, tried, Withdrawals.Reference);
                metrics.Leased(model, lease.Keys.Length);
                lock (leases)
                {
                    // what this frontend used while the call was out: the next read-ahead covers that much again
                    leases.Demand = leases.TakenSinceFetch + leases.Waiting;
                    leases.Add(lease);
                }
                return lease;
            }
            finally
            {
                lock (leases)
                {
                    leases.Fetching = null;
                }
            }
        }
    }

    /// <summary>The keys of <paramref name="model"/> held unused, and the pool call in flight for it if any.</summary>
    internal (int Held, Task? Fetching) Holding(string model)
    {
        var leases = For(model);
        lock (leases)
        {
            return (leases.Held, leases.Fetching?.Lease);
        }
    }

    /// <summary>
    /// How many keys to hold ahead: none while one pool call serves this frontend's demand (a request at a time: every
    /// key then comes from the pool's ring in order, whatever the number of frontends), else a few round trips' worth
    /// of recent use, within LEASE_BATCH.
    /// </summary>
    private int ReadAheadTarget(ModelLeases leases) =>
        _aheadLimit <= 1 || leases.Demand < ReadAheadDemand ? 0 : (int)Math.Min(_aheadLimit, (long)ReadAheadFactor * leases.Demand + 1);

    /// <summary>Whether every key in <paramref name="subset"/> is in <paramref name="set"/> (null is empty).</summary>
    private static bool IsSubset(int[]? subset, int[]? set) =>
        subset is null || Array.TrueForAll(subset, index => set is not null && Array.IndexOf(set, index) >= 0);

    /// <summary>Drops a key this frontend just saw fail, for one model or (with no model) for all of them.</summary>
    public void Withdraw(KeyAlias key, string? model) => Drop(key.Index, model, version: null);

    /// <summary>Drops a key the pool withdrew (<paramref name="version"/> set) or this frontend saw fail.</summary>
    internal void Drop(int index, string? model, long? version)
    {
        foreach (var (name, leases) in _models)
        {
            if (model is null || name == model)
            {
                lock (leases)
                {
                    leases.Drop(index, version);
                }
            }
        }
    }

    private ModelLeases For(string model)
    {
        if (_models.TryGetValue(model, out var leases))
        {
            return leases;
        }
        lock (_gate)
        {
            if (!_models.TryGetValue(model, out leases))
            {
                // copy on write: reads on every request take no lock; models are few
                var models = new Dictionary<string, ModelLeases>(_models, StringComparer.Ordinal);
                if (!known.Contains(model) && ++_unknownModels > KnownModels.MaxUnknownTracked)
                {
                    _unknownModels = ForgetIdleUnknown(models) + 1;
                }
                models[model] = leases = new ModelLeases();
                _models = models;
            }
            return leases;
        }
    }

    /// <summary>Removes the entries of names still unknown that no request is using; returns how many unknown ones are left.</summary>
    private int ForgetIdleUnknown(Dictionary<string, ModelLeases> models)
    {
        var left = 0;
        foreach (var (name, leases) in models)
        {
            if (known.Contains(name))
            {
                continue;
            }
            lock (leases)
            {
                if (leases.Waiting == 0 && leases.Fetching is null)
                {
                    models.Remove(name);
                    continue;
                }
            }
            left++;
        }
        return left;
    }

    /// <summary>The model names this frontend keeps leases for.</summary>
    internal IReadOnlyCollection<string> Models => _models.Keys;

    /// <summary>A lease in flight, and the keys it was asked to skip.</summary>
    private sealed record Fetch(int[]? Tried, Task<KeyLease> Lease);

    /// <summary>The leased keys of one model not used yet. Guarded by locking the instance.</summary>
    private sealed class ModelLeases
    {
        private readonly List<KeyAlias> _ready = [];

        /// <summary>Withdrawals heard of, by key index, with the pool version that made them.</summary>
        private readonly Dictionary<int, long> _withdrawn = [];

        public Fetch? Fetching { get; set; }

        /// <summary>Keys held and not used yet.</summary>
        public int Held => _ready.Count;

        /// <summary>Keys handed out since the call in flight was made.</summary>
        public int TakenSinceFetch { get; set; }

        /// <summary>Keys wanted while the last pool call was out: the read-ahead mark.</summary>
        public int Demand { get; set; }

        /// <summary>Requests of this model waiting for a key: the next lease brings at least one for each.</summary>
        public int Waiting { get; set; }

        public KeyAlias? TryTake(int[]? tried)
        {
            for (var i = 0; i < _ready.Count; i++)
            {
                var key = _ready[i];
                if (tried is null || Array.IndexOf(tried, key.Index) < 0)
                {
                    _ready.RemoveAt(i);
                    TakenSinceFetch++;
                    return key;
                }
            }
            return null;
        }

        public void Add(KeyLease lease)
        {
            foreach (var key in lease.Keys)
            {
                if (!(_withdrawn.TryGetValue(key.Index, out var version) && version > lease.Version))
                {
                    _ready.Add(key);
                }
            }
            // withdrawals this lease already reflects cannot concern a later one
            foreach (var (index, version) in _withdrawn)
            {
                if (version <= lease.Version)
                {
                    _withdrawn.Remove(index);
                }
            }
        }

        public void Drop(int index, long? version)
        {
            _ready.RemoveAll(key => key.Index == index);
            if (version is { } v)
            {
                _withdrawn[index] = Math.Max(v, _withdrawn.GetValueOrDefault(index));
            }
        }
    }

}

/// <summary>A key to use, or when to come back.</summary>
public readonly record struct LeasedKey(KeyAlias? Key, DateTimeOffset? RetryAt = null, bool AllInvalid = false);
