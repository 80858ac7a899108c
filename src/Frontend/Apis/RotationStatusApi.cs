using System.Globalization;
using System.Reflection;
using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Observability;
using GeminiParty.Frontend.Resources;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Hosting;
using Microsoft.Extensions.Options;
using GeminiParty.Hosting.ListFiles;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// <c>GET /rotation-status</c>: the pool as the pool grain sees it and the cluster as Orleans' membership sees it, so
/// every frontend gives the same answer. Keeps the original's shape (summary, modelStats, keys) so existing dashboards
/// work, and adds the cluster, cooldowns, invalid marks, outcome classes and token use.
/// </summary>
public static class RotationStatusApi
{
    private static readonly string Version =
        typeof(RotationStatusApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static IEndpointRouteBuilder MapRotationStatusApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/rotation-status", GetAsync).RequireClientToken(app.ServiceProvider, ApiSurface.GeminiNative, allowAdmin: true);
        var prefix = app.ServiceProvider.GetRequiredService<IOptions<FrontendOptions>>().Value.NormalizedPrefix;
        if (prefix.Length > 0)
        {
            // under API_PREFIX too, as the original serves it; the root one stays for dashboards that know it there
            app.MapGet(prefix + "/rotation-status", GetAsync).RequireClientToken(app.ServiceProvider, ApiSurface.GeminiNative, allowAdmin: true);
        }
        return app;
    }

    public static async Task<IResult> GetAsync(HttpContext context, KeyPoolReference pool, UpstreamKeySecrets keys, ClusterMembership cluster,
        UpstreamKeySource source, AdminToken admin, IOptions<FrontendOptions> options, ClientsFile clients, KeyResourceCounts resourceCounts)
    {
        var silos = cluster.SilosAsync();
        PoolStatus status;
        try
        {
            status = await pool.Reference.GetStatusAsync();
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            // no silo reachable, or the pool between two activations: say so, as the forwarding routes do
            await ClusterUnreachable.AnswerAsync(context, ApiSurface.GeminiNative, "The key pool");
            return TypedResults.Empty;
        }
        IReadOnlyDictionary<string, ResourceCounts>? resources = null;
        try
        {
            resources = await resourceCounts.ReadAsync(status.Keys.Select(key => key.Key.Fingerprint));
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            // the status stays useful without the counts: they show as null
        }
        var clusterView = new ClusterView(cluster.Mode, cluster.Storage, cluster.ClusterId, cluster.ServiceId, status.Silo, Environment.MachineName, await silos);
        return TypedResults.Json(Describe(status, keys, clusterView, source.FileStatus, AdminKeysApi.PathFor(admin, options.Value), clients, resources));
    }

    /// <summary>What /rotation-status says about the cluster.</summary>
    /// <param name="PoolSilo">The silo running the pool grain.</param>
    /// <param name="Frontend">The host name of the frontend that answered (the rest of the answer is the same from all).</param>
    /// <param name="Silos">Null when the membership could not be read.</param>
    internal sealed record ClusterView(string Mode, string Storage, string ClusterId, string ServiceId, string? PoolSilo, string Frontend, SiloView[]? Silos);

    internal static object Describe(PoolStatus status, UpstreamKeySecrets keys, ClusterView cluster, ReloadingFileStatus? keyFile = null,
        string? adminPath = null, ClientsFile? clients = null, IReadOnlyDictionary<string, ResourceCounts>? resources = null)
    {
        var now = status.At;
        var models = new SortedDictionary<string, ModelView>(StringComparer.Ordinal);
        var everything = new ModelCounters();
        var keyViews = new object[status.Keys.Count];
        int active = 0, cooling = 0, invalid = 0, disabled = 0, removed = 0, liveSessions = 0;
        var liveResources = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < status.Keys.Count; i++)
        {
            var key = status.Keys[i];
            var state = State(key);
            switch (state)
            {
                case "active": active++; break;
                case "cooling": cooling++; break;
                case "disabled": disabled++; break;
                case "removed": removed++; break;
                default: invalid++; break;
            }

            // one pass per key feeds the key's totals, each model's totals and the pool's totals
            var totals = new ModelCounters();
            foreach (var (model, counters) in key.Lifetime)
            {
                totals.Add(counters);
                ModelFor(models, model).Lifetime.Add(counters);
            }
            foreach (var (model, recent) in key.Recent)
            {
                var view = ModelFor(models, model);
                view.RecentRequests += recent;
                view.KeyDistribution[key.Key.Index.ToString(CultureInfo.InvariantCulture)] = recent;
            }
            foreach (var model in key.Cooldowns.Keys)
            {
                var view = ModelFor(models, model);
                if (state is "active" or "cooling")
                {
                    view.CoolingKeys++; // an invalid, disabled or removed key is already out of every model
                }
            }
            everything.Add(totals);
            liveSessions += key.LiveSessions;
            var held = resources?.GetValueOrDefault(key.Key.Fingerprint) ?? ResourceCounts.None;
            foreach (var (collection, count) in held.Live)
            {
                liveResources[collection] = liveResources.GetValueOrDefault(collection) + count;
            }

            keyViews[i] = new
            {
                index = key.Key.Index,
                key = keys.Masked(key.Key),
                fingerprint = key.Key.Fingerprint,
                status = state,
                usage = new
                {
                    total = totals.Attempts,
                    byModel = key.Lifetime.ToDictionary(pair => pair.Key, pair => pair.Value.Attempts, StringComparer.Ordinal),
                    recent = key.Recent,
                },
                lastUsed = totals.LastUsed,
                models = key.Lifetime,
                cooldowns = key.Cooldowns.Select(pair => new
                {
                    model = pair.Key,
                    until = pair.Value.Until,
                    remainingMs = (long)Math.Max(0, (pair.Value.Until - now).TotalMilliseconds),
                    reason = pair.Value.Reason,
                }),
                invalid = key.Invalid is { } mark ? new { reason = mark.Reason, since = mark.Since } : null,
                liveSessions = key.LiveSessions,
                resources = resources is null ? null : ResourcesView(held, totals.AffinityWaits),
                disabled = key.Disabled is { } off ? new { by = off.By, since = off.Since } : null,
                removed = key.Removed,
                attributes = Attributes(key.Attributes),
                probe = key.Probe is { } probe
                    ? new
                    {
                        lastAt = probe.LastAt,
                        lastResult = probe.LastResult is { } result ? ProbeResultName(result) : null,
                        nextAt = probe.NextAt,
                        failedInARow = probe.FailedInARow,
                        passed = probe.Passed,
                        failed = probe.Failed,
                    }
                    : null,
            };
        }

        var usableAll = active + cooling;
        return new
        {
            status = "success",
            version = Version,
            data = new
            {
                summary = new
                {
                    totalKeys = status.Keys.Count - removed,
                    activeKeys = active,
                    blacklistedKeys = cooling,
                    invalidKeys = invalid,
                    disabledKeys = disabled,
                    removedKeys = removed,
                    paidFirst = status.PaidFirst,
                    adminPath,
                    keyFile = keyFile is null ? null : new { loadedAt = keyFile.LoadedAt, error = keyFile.Error, errorAt = keyFile.ErrorAt },
                    resetIn = (long)Math.Max(0, status.ResetIn.TotalMilliseconds),
                    storage = cluster.Storage,
                    at = now,
                    windowStart = status.WindowStart,
                    totals = Totals(everything),
                    liveSessions,
                    resources = resources is null ? null : ResourcesView(new ResourceCounts(liveResources), everything.AffinityWaits),
                    waiting = status.Waiting?.Values.Sum() ?? 0,
                },
                // requests in each model's line now, over every frontend (MAX_WAIT); models with none are left out
                waiting = status.Waiting ?? new Dictionary<string, int>(),
                cluster = new
                {
                    mode = cluster.Mode,
                    storage = cluster.Storage,
                    clusterId = cluster.ClusterId,
                    serviceId = cluster.ServiceId,
                    poolSilo = cluster.PoolSilo,
                    frontend = cluster.Frontend,
                    silos = cluster.Silos,
                },
                modelStats = models.Select(pair => new
                {
                    name = pair.Key,
                    totalRequests = pair.Value.RecentRequests,
                    keyDistribution = pair.Value.KeyDistribution,
                    usableKeys = usableAll - pair.Value.CoolingKeys,
                    coolingKeys = pair.Value.CoolingKeys,
                    waiting = status.Waiting?.GetValueOrDefault(pair.Key) ?? 0,
                    lifetime = Totals(pair.Value.Lifetime),
                }),
                keys = keyViews,
                // this frontend's copy of CLIENTS_FILE: a refused change shows here while the last good list stays in force
                clientsFile = clients?.Status is { } file
                    ? new { path = file.Path, loadedAt = file.LoadedAt, clients = clients.Current.Clients.Count, error = file.Error, errorAt = file.ErrorAt }
                    : null,
            },
        };
    }

    /// <summary>
    /// Live resources (files, caches, batches, operations, File Search stores, custom voices) a key made through the gateway and that
    /// have not expired: only that key can reach them, so a key holding some matters before removing it. Beside them, the
    /// requests naming one that waited for the key to come back from a cooldown (MAX_AFFINITY_WAIT), over every frontend.
    /// </summary>
    private static object ResourcesView(ResourceCounts counts, long affinityWaits) => new
    {
        total = counts.Total,
        files = counts.Of("files"),
        cachedContents = counts.Of("cachedContents"),
        batches = counts.Of("batches"),
        operations = counts.Of("operations"),
        fileSearchStores = counts.Of("fileSearchStores"),
        voices = counts.Of("voices"),
        affinityWaits,
    };

    /// <summary>Counters grouped the way people read them: requests, successes, abandoned by the client, failures by class, tokens.</summary>
    private static object Totals(ModelCounters counters) => new
    {
        requests = counters.Attempts,
        successes = counters.Successes,
        clientClosed = counters.ClientClosed,
        failures = new
        {
            clientErrors = counters.ClientErrors,
            rateLimited = counters.RateLimited,
            dailyQuotaExhausted = counters.DailyQuotaExhausted,
            invalid = counters.Invalid,
            transient = counters.Transient,
            timeouts = counters.Timeouts,
        },
        tokens = new
        {
            prompt = counters.PromptTokens,
            candidates = counters.CandidatesTokens,
            total = counters.TotalTokens,
        },
        lastUsed = counters.LastUsed,
    };

    private static ModelView ModelFor(SortedDictionary<string, ModelView> models, string model)
    {
        if (!models.TryGetValue(model, out var view))
        {
            models[model] = view = new ModelView();
        }
        return view;
    }

    /// <summary>One word per key: removed, disabled, invalid, cooling (for at least one model) or active.</summary>
    internal static string State(KeyStatus key) =>
        key.Removed ? "removed"
        : key.Disabled is not null ? "disabled"
        : key.Invalid is not null ? "invalid"
        : key.Cooldowns.Count > 0 ? "cooling"
        : "active";

    internal static object Attributes(KeyAttributes? attributes)
    {
        var value = attributes ?? KeyAttributes.Default;
        return new { project = value.Project, tier = value.Tier == KeyTier.Paid ? "paid" : "free", weight = value.Weight, note = value.Note };
    }

    internal static string ProbeResultName(KeyProbeResult result) => result switch
    {
        KeyProbeResult.Passed => "passed",
        KeyProbeResult.Invalid => "invalid",
        KeyProbeResult.Inconclusive => "inconclusive",
        _ => "not_held",
    };

    private sealed class ModelView
    {
        public long RecentRequests;
        public int CoolingKeys;
        public readonly Dictionary<string, long> KeyDistribution = new(StringComparer.Ordinal);
        public readonly ModelCounters Lifetime = new();
    }
}
