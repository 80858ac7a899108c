using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Observability;

/// <summary>
/// The gateway's own instruments (meter <see cref="MeterName"/>), exported on /metrics. Keys appear only as their
/// index in GEMINI_API_KEY, and models by name only once upstream has served them (<see cref="KnownModels"/>), so
/// made-up names cannot add series. Label values are cached strings and tags go in a <see cref="TagList"/> on the stack,
/// so recording costs the request no allocation. The counters a request adds to (requests, attempts, tokens) are
/// <see cref="LocalCounter{TKey}"/>s, summed in place and read at each collection; the histograms go through the SDK.
/// </summary>
public sealed class FrontendMetrics
{
    public const string MeterName = "GeminiParty.Gateway";

    /// <summary>Seconds, from a fast embedding to a long thinking stream.</summary>
    private static readonly double[] LatencyBuckets = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300];

    private static readonly string[] StatusLabels = Enumerable.Range(0, 600).Select(code => code.ToString(CultureInfo.InvariantCulture)).ToArray();
    private static readonly string[] OutcomeLabels = Enum.GetValues<UpstreamOutcome>().Select(Snake).ToArray();

    private readonly KnownModels _known;
    private readonly string[] _keyLabels;

    /// <summary>Key labels by fingerprint, for the owners of resources (known by fingerprint only).</summary>
    private readonly Dictionary<string, string> _keyLabelsByFingerprint;
    private readonly LocalCounter<(string Route, string Model, string Status, string Client)> _requests =
        new(labels => new TagList { { "route", labels.Route }, { "model", labels.Model }, { "status", labels.Status }, { "client", labels.Client } });
    private readonly Histogram<double> _requestDuration;
    private readonly LocalCounter<(string Key, string Model, string Outcome)> _attempts =
        new(labels => new TagList { { "key", labels.Key }, { "model", labels.Model }, { "outcome", labels.Outcome } });
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _cooldowns;
    private readonly LocalCounter<(string Key, string Model, string Type, string Client)> _tokens =
        new(labels => new TagList { { "key", labels.Key }, { "model", labels.Model }, { "type", labels.Type }, { "client", labels.Client } });
    private readonly Counter<long> _leaseCalls;
    private readonly Counter<long> _leasedKeys;
    private readonly Counter<long> _leaseWaits;
    private readonly Counter<long> _emptyAnswers;
    private readonly UpDownCounter<long> _waiting;
    private readonly Histogram<double> _waitDuration;
    private readonly Counter<long> _waitsRefused;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _affinityRefusals;

    public FrontendMetrics(IMeterFactory meters, UpstreamKeySecrets keys, PoolGauges gauges, KnownModels known)
    {
        _known = known;
        _keyLabels = keys.Aliases.Select(alias => alias.Index.ToString(CultureInfo.InvariantCulture)).ToArray();
        _keyLabelsByFingerprint = keys.Aliases.GroupBy(alias => alias.Fingerprint)
            .ToDictionary(group => group.Key, group => group.First().Index.ToString(CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var meter = meters.Create(MeterName);
        meter.CreateObservableCounter("gemini_party.requests", _requests.Observe, "{request}",
            "Client requests, by route (native or openai), model, final HTTP status and client (its CLIENTS_FILE name; _auth_token for AUTH_TOKEN).");
        _requestDuration = meter.CreateHistogram("gemini_party.request.duration", "s",
            "Time from the request reaching the forwarder to the end of its answer, retries included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        meter.CreateObservableCounter("gemini_party.upstream.attempts", _attempts.Observe, "{attempt}",
            "Upstream calls, by key index, model and the class the error classifier gave the answer.");
        _upstreamDuration = meter.CreateHistogram("gemini_party.upstream.duration", "s",
            "Time until upstream's response headers, by model and status class.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _retries = meter.CreateCounter<long>("gemini_party.retries", "{retry}",
            "Attempts on another key after a retryable failure, by model and the failure's class.");
        _cooldowns = meter.CreateCounter<long>("gemini_party.cooldowns", "{cooldown}",
            "Keys this frontend benched: rate_limited and daily_quota_exhausted for one model, invalid_key for all.");
        meter.CreateObservableCounter("gemini_party.tokens", _tokens.Observe, "{token}",
            "Tokens upstream reported, by key index, model, client and type (prompt, candidates, total; total includes thinking, so do not sum over type).");
        _leaseCalls = meter.CreateCounter<long>("gemini_party.pool.lease_calls", "{call}",
            "Lease calls this frontend made to the pool grain, by model: far fewer than requests while keys are leased ahead.");
        _leasedKeys = meter.CreateCounter<long>("gemini_party.pool.leased_keys", "{key}",
            "Keys those calls brought, by model: the requests served plus the keys held ahead (at most LEASE_BATCH).");
        _leaseWaits = meter.CreateCounter<long>("gemini_party.pool.lease_waits", "{request}",
            "Requests that found no leased key in hand and waited for a lease call, by model.");
        _emptyAnswers = meter.CreateCounter<long>("gemini_party.upstream.empty_answers", "{answer}",
            "Upstream 200s with no candidate and no block reason (or a stream that ended before its first), by model: each counts as a transient failure of its key and is retried on another.");
        _waiting = meter.CreateUpDownCounter<long>("gemini_party.waiting", "{request}",
            "Requests waiting on this frontend for a key of their model to come back (MAX_WAIT), by model.");
        _waitDuration = meter.CreateHistogram("gemini_party.wait.duration", "s",
            "Time requests waited in their model's line for a key to come back, by model (MAX_WAIT).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _waitsRefused = meter.CreateCounter<long>("gemini_party.waits_refused", "{request}",
            "Requests that found their model's line in the pool full (MAX_WAITING, over every frontend) and got 429 at once (or went to the next model of their chain), by model.");
        _fallbacks = meter.CreateCounter<long>("gemini_party.fallbacks", "{request}",
            "Requests sent for the next model of their MODEL_FALLBACKS chain because every key of theirs cooled past their wait, by model and fallback.");
        _affinityRefusals = meter.CreateCounter<long>("gemini_party.affinity.refusals", "{request}",
            "Requests naming a resource whose owning key could not serve, by owning key: owner_cooling (429) or owner_unusable (invalid or removed).");
        meter.CreateObservableGauge("gemini_party.keys.usable", gauges.UsableKeys, "{key}",
            "Keys the pool can lease for a model now (not invalid, not cooling for it), from the pool status of at most a few seconds ago.");
        meter.CreateObservableGauge("gemini_party.pool.waiting", gauges.Waiting, "{request}",
            "Requests in each model's line in the pool now, over every frontend (MAX_WAIT), from the pool status of at most a few seconds ago.");
        meter.CreateObservableGauge("gemini_party.keys", gauges.KeysByState, "{key}",
            "Keys by state: active, cooling (for at least one model), invalid, disabled (by an operator), removed (from the key file).");
        meter.CreateObservableGauge("gemini_party.resources", gauges.Resources, "{resource}",
            "Live resources each key made through the gateway and only it can reach, by key and collection (files, cachedContents, batches, operations, fileSearchStores, voices), from the same refresh as the key gauges.");
        meter.CreateObservableGauge("gemini_party.cluster.silos", gauges.Silos, "{silo}",
            "Silos in the cluster's membership by status (active, joining, shutting_down, stopping, dead; dead ones stay listed for an hour).");
        meter.CreateObservableCounter("gemini_party.affinity.waits", gauges.AffinityWaits, "{request}",
            "Requests naming a resource that waited for its owning key to come back from a cooldown (within MAX_AFFINITY_WAIT), by owning key and model: the pool's totals over every frontend, persisted with the keys, as /rotation-status shows them.");
        meter.CreateObservableCounter("gemini_party.key_probes", gauges.Probes, "{probe}",
            "Health probes of keys the cluster ran (each key probed by one silo, so every frontend shows the same totals), by result: passed, failed.");
    }

    /// <param name="client">The client's name (bounded by the clients file), never its token.</param>
    public void RequestCompleted(string route, string model, int status, long startedTimestamp, string client = ClientPolicy.UnnamedName)
    {
        var label = Model(model);
        _requests.Add((route, label, Status(status), client), 1);
        if (_requestDuration.Enabled)
        {
            _requestDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds,
                new TagList { { "route", route }, { "model", label } });
        }
    }

    /// <summary>Upstream answered with headers (status) or failed to (status 0), at <paramref name="answeredTimestamp"/> (or now).</summary>
    public void UpstreamAnswered(string model, int status, long startedTimestamp, long answeredTimestamp = 0)
    {
        if (_upstreamDuration.Enabled)
        {
            var elapsed = answeredTimestamp > 0 ? Stopwatch.GetElapsedTime(startedTimestamp, answeredTimestamp) : Stopwatch.GetElapsedTime(startedTimestamp);
            _upstreamDuration.Record(elapsed.TotalSeconds,
                new TagList { { "model", Model(model) }, { "status_class", StatusClass(status) } });
        }
    }

    /// <param name="client">The client's name for the token counter; null for AUTH_TOKEN clients.</param>
    public void AttemptCompleted(KeyAlias key, UpstreamOutcome outcome, TokenCounts? tokens, string model, string? client = null)
    {
        var keyLabel = Key(key);
        var label = Model(model);
        _attempts.Add((keyLabel, label, OutcomeLabels[(int)outcome]), 1);
        if (tokens is { } used)
        {
            client ??= ClientPolicy.UnnamedName;
            _tokens.Add((keyLabel, label, "prompt", client), used.Prompt);
            _tokens.Add((keyLabel, label, "candidates", client), used.Candidates);
            _tokens.Add((keyLabel, label, "total", client), used.Total);
        }
    }

    public void Retried(string model, UpstreamOutcome previous) =>
        _retries.Add(1, new TagList { { "model", Model(model) }, { "reason", OutcomeLabels[(int)previous] } });

    public void CooldownStarted(KeyAlias key, string model, UpstreamOutcome outcome) =>
        _cooldowns.Add(1, new TagList { { "key", Key(key) }, { "model", Model(model) }, { "reason", OutcomeLabels[(int)outcome] } });

    public void Leased(string model, int keys)
    {
        var tags = new TagList { { "model", Model(model) } };
        _leaseCalls.Add(1, tags);
        _leasedKeys.Add(keys, tags);
    }

    public void EmptyAnswer(string model) => _emptyAnswers.Add(1, new TagList { { "model", Model(model) } });

    public void WaitStarted(string model) => _waiting.Add(1, new TagList { { "model", Model(model) } });

    public void WaitEnded(string model, TimeSpan waited)
    {
        var tags = new TagList { { "model", Model(model) } };
        _waiting.Add(-1, tags);
        _waitDuration.Record(waited.TotalSeconds, tags);
    }

    public void WaitRefused(string model) => _waitsRefused.Add(1, new TagList { { "model", Model(model) } });

    public void FellBack(string model, string fallback) =>
        _fallbacks.Add(1, new TagList { { "model", Model(model) }, { "fallback", Model(fallback) } });

    public void LeaseWaited(string model) => _leaseWaits.Add(1, new TagList { { "model", Model(model) } });

    /// <param name="owner">The fingerprint of the key that made the resource (labelled by its index, as every key metric).</param>
    public void AffinityRefused(string reason, string owner) =>
        _affinityRefusals.Add(1, new TagList { { "reason", reason }, { "key", OwnerLabel(owner) } });

    /// <summary>A key added by a key file reload after start has no index label here: it shows as "other".</summary>
    private string OwnerLabel(string fingerprint) => _keyLabelsByFingerprint.GetValueOrDefault(fingerprint, "other");

    private string Model(string model) => _known.Bucket(model);

    private string Key(KeyAlias key) =>
        (uint)key.Index < (uint)_keyLabels.Length ? _keyLabels[key.Index] : key.Index.ToString(CultureInfo.InvariantCulture);

    private static string Status(int status) =>
        (uint)status < (uint)StatusLabels.Length ? StatusLabels[status] : status.ToString(CultureInfo.InvariantCulture);

    private static string StatusClass(int status) => status switch
    {
        >= 200 and < 300 => "2xx",
        >= 400 and < 500 => "4xx",
        >= 500 and < 600 => "5xx",
        _ => "error",
    };

    private static string Snake(UpstreamOutcome outcome) =>
        string.Concat(outcome.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
