using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace GeminiParty.PoolBench;

/// <summary>
/// LeaseAsync from a cluster client through a 2-silo in-process test cluster: every lease crosses the client-gateway
/// connection, and the silo-to-silo one when the gateway is not the silo hosting the pool (as cluster frontends do).
/// </summary>
internal static class ClusterLeaseBench
{
    public static async Task RunAsync(Report report, int keys, TimeSpan duration)
    {
        var aliases = UpstreamKeyList.Aliases(Enumerable.Range(0, keys).Select(i => $"AIzaPoolBench{i:D5}-0123456789abcdefghij").ToArray());
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.KeyPool);
            silo.Services.AddKeyedSingleton(ServiceKeys.PoolClock, TimeProvider.System);
            silo.Services.AddSingleton(new PoolKeyAliases(aliases));
            silo.Services.AddOptions<KeyPoolOptions>();
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var pool = cluster.Client.GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool);
        await pool.PingAsync();
        await GrainLeaseBench.LeaseLoopAsync(pool, keys, 8, duration / 2);

        report.Line();
        report.Line($"### LeaseAsync from a client through a 2-silo in-process test cluster ({keys} keys)");
        report.Line();
        report.Line("| callers | leases/s | fairness (min..max per key) |");
        report.Line("|---:|---:|---|");
        foreach (var callers in new[] { 1, 8, 64 })
        {
            GrainLeaseBench.SettleHeap();
            var (perSecond, min, max) = await GrainLeaseBench.LeaseLoopAsync(pool, keys, callers, duration);
            report.Line($"| {callers} | {perSecond:N0} | {(max - min <= 1 ? "ok" : "VIOLATED")} ({min}..{max}) |");
            Report.Progress($"cluster {callers} callers: {perSecond:N0} leases/s");
        }
        await cluster.StopAllSilosAsync();
    }
}
