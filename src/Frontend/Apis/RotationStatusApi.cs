using System.Globalization;
using System.Reflection;
using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Observability;

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
        return app;
    }

    public static async Task<IResult> GetAsync(HttpContext context, KeyPoolReference pool, UpstreamKeySecrets keys, ClusterMembership cluster, ClientsFile clients)
    {
        var silos = cluster.SilosAsync();
        PoolStatus status;
        try
        {
            status = await pool.Reference.GetStatusAsync();
        }
        catch (Exception ex) when (ex is OrleansException or TimeoutException or ArgumentException or InvalidOperationException)
        {
            // no silo reachable, or the pool between two activations: say so, as the forwarding routes do
            await ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable,
                "The key pool is not reachable right now; retry shortly.", TimeSpan.FromSeconds(1));
            return TypedResults.Empty;
        }
        var clusterView = new ClusterView(cluster.Mode, cluster.Storage, cluster.ClusterId, cluster.ServiceId, status.Silo, Environment.MachineName, await silos);
        return TypedResults.Json(Describe(status, keys, clusterView, clients));
    }

    /// <summary>What /rotation-status says about the cluster.</summary>
    /// <param name="PoolSilo">The silo running the pool grain.</param>
    /// <param name="Frontend">The host name of the frontend that answered (the rest of the answer is the same from all).</param>
    /// <param name="Silos">Null when the membership could not be read.</param>
    internal sealed record ClusterView(string Mode, string Storage, string ClusterId, string ServiceId, string? PoolSilo, string Frontend, SiloView[]? Silos);

    internal static object Describe(PoolStatus status, UpstreamKeySecrets keys, ClusterView cluster, ClientsFile? clients = null)
    {
        var now = status.At;
        var models = new SortedDictionary<string, ModelView>(StringComparer.Ordinal);
        var everything = new ModelCounters();
        var keyViews = new object[status.Keys.Count];
        int active = 0, cooling = 0, invalid = 0, liveSessions = 0;
        for (var i = 0; i < status.Keys.Count; i++)
        {
            var key = status.Keys[i];
            var state = State(key);
            switch (state)
            {
                case "active": active++; break;
                case "cooling": cooling++; break;
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
                if (key.Invalid is null)
                {
                    view.CoolingKeys++; // an invalid key is already out of every model
                }
            }
            everything.Add(totals);
            liveSessions += key.LiveSessions;

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
            };
        }

        var usableAll = status.Keys.Count - invalid;
        return new
        {
            status = "success",
            version = Version,
            data = new
            {
                summary = new
                {
                    totalKeys = status.Keys.Count,
                    activeKeys = active,
                    blacklistedKeys = cooling,
                    invalidKeys = invalid,
                    resetIn = (long)Math.Max(0, status.ResetIn.TotalMilliseconds),
                    storage = cluster.Storage,
                    at = now,
                    windowStart = status.WindowStart,
                    totals = Totals(everything),
                    liveSessions,
                },
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

    /// <summary>Counters grouped the way people read them: requests, successes, failures by class, tokens.</summary>
    private static object Totals(ModelCounters counters) => new
    {
        requests = counters.Attempts,
        successes = counters.Successes,
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

    private static string State(KeyStatus key) =>
        key.Invalid is not null ? "invalid" : key.Cooldowns.Count > 0 ? "cooling" : "active";

    private sealed class ModelView
    {
        public long RecentRequests;
        public int CoolingKeys;
        public readonly Dictionary<string, long> KeyDistribution = new(StringComparer.Ordinal);
        public readonly ModelCounters Lifetime = new();
    }
}
