using System.Reflection;
using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// <c>GET /rotation-status</c>: the pool as the pool grain sees it, so every frontend gives the same answer. Keeps the
/// original's shape (summary, modelStats, keys) so existing dashboards work, and adds cooldowns and invalid marks.
/// </summary>
public static class RotationStatusApi
{
    private static readonly string Version =
        typeof(RotationStatusApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static IEndpointRouteBuilder MapRotationStatusApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/rotation-status", GetAsync).RequireClientToken(app.ServiceProvider, ApiSurface.GeminiNative);
        return app;
    }

    public static async Task<IResult> GetAsync(IGrainFactory grains, UpstreamKeyRing keys, IOptions<ClusterHostingOptions> cluster)
    {
        var status = await grains.GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool).GetStatusAsync();
        return TypedResults.Json(Describe(status, keys, cluster.Value.IsCluster ? "redis" : "memory"));
    }

    internal static object Describe(PoolStatus status, UpstreamKeyRing keys, string storage)
    {
        var states = status.Keys.Select(State).ToArray();
        var models = status.Keys.SelectMany(key => key.Recent.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return new
        {
            status = "success",
            version = Version,
            data = new
            {
                summary = new
                {
                    totalKeys = status.Keys.Count,
                    activeKeys = states.Count(s => s == "active"),
                    blacklistedKeys = states.Count(s => s == "cooling"),
                    invalidKeys = states.Count(s => s == "invalid"),
                    resetIn = (long)Math.Max(0, status.ResetIn.TotalMilliseconds),
                    storage,
                },
                modelStats = models.Select(model => new
                {
                    name = model,
                    totalRequests = status.Keys.Sum(key => key.Recent.GetValueOrDefault(model)),
                    keyDistribution = status.Keys
                        .Where(key => key.Recent.ContainsKey(model))
                        .ToDictionary(key => key.Key.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), key => key.Recent[model]),
                }),
                keys = status.Keys.Select((key, i) => new
                {
                    index = key.Key.Index,
                    key = keys.Masked(key.Key),
                    fingerprint = key.Key.Fingerprint,
                    status = states[i],
                    usage = new
                    {
                        total = key.Lifetime.Values.Sum(counters => counters.Leases),
                        byModel = key.Lifetime.ToDictionary(pair => pair.Key, pair => pair.Value.Leases),
                        recent = key.Recent,
                    },
                    models = key.Lifetime,
                    cooldowns = key.Cooldowns.Select(pair => new
                    {
                        model = pair.Key,
                        until = pair.Value.Until,
                        remainingMs = (long)Math.Max(0, (pair.Value.Until - status.At).TotalMilliseconds),
                        reason = pair.Value.Reason,
                    }),
                    invalid = key.Invalid is { } mark ? new { reason = mark.Reason, since = mark.Since } : null,
                }),
            },
        };
    }

    private static string State(KeyStatus key) =>
        key.Invalid is not null ? "invalid" : key.Cooldowns.Count > 0 ? "cooling" : "active";
}
