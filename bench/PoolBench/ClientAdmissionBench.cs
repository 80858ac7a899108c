using System.Diagnostics;
using Orleans.TestingHost;
using Microsoft.Extensions.DependencyInjection;

namespace GeminiParty.PoolBench;

/// <summary>
/// What a named client's limits cost a request: AdmitAsync on one ClientGrain (and CompleteAsync for a client that
/// holds concurrency slots), from a cluster client through a 2-silo in-process test cluster, as cluster frontends call it.
/// One grain serves all of a client's requests, so its calls per second bound that one client's request rate.
/// </summary>
internal static class ClientAdmissionBench
{
    public static async Task RunAsync(Report report, TimeSpan duration)
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Clients);
            silo.Services.AddKeyedSingleton(ServiceKeys.PoolClock, TimeProvider.System);
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();

        report.Line();
        report.Line("### ClientGrain admission from a client through a 2-silo in-process test cluster");
        report.Line();
        report.Line("| limits | calls per request | callers | requests/s | us per request (1 caller) |");
        report.Line("|---|---:|---:|---:|---:|");
        var cases = new (string Name, ClientLimits Limits, bool Complete)[]
        {
            ("rpm=100000", new ClientLimits(100_000, null, null, null), false),
            ("rpd, tpd", new ClientLimits(null, int.MaxValue, long.MaxValue, null), false),
            ("concurrency=1000 (admit + complete)", new ClientLimits(null, null, null, 1000), true),
        };
        foreach (var (name, limits, complete) in cases)
        {
            var grain = cluster.Client.GetGrain<IClientGrain>("bench-" + Guid.NewGuid().ToString("N")[..8]);
            await LoopAsync(grain, limits, complete, 8, duration / 2); // warm-up
            foreach (var callers in new[] { 1, 8, 64 })
            {
                GrainLeaseBench.SettleHeap();
                var perSecond = await LoopAsync(grain, limits, complete, callers, duration);
                report.Line($"| {name} | {(complete ? 2 : 1)} | {callers} | {perSecond:N0} | {(callers == 1 ? $"{1e6 / perSecond:0.0}" : "")} |");
                Report.Progress($"client {name}, {callers} callers: {perSecond:N0} requests/s");
            }
        }
        await cluster.StopAllSilosAsync();
    }

    private static async Task<double> LoopAsync(IClientGrain grain, ClientLimits limits, bool complete, int callers, TimeSpan duration)
    {
        var stop = Stopwatch.StartNew();
        var total = 0L;
        var usage = new UsageCounts { Errors = 0 };
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            var mine = 0L;
            while (stop.Elapsed < duration)
            {
                var decision = await grain.AdmitAsync("gemini-2.5-flash", limits);
                if (complete)
                {
                    await grain.CompleteAsync(decision.Slot, "gemini-2.5-flash", usage);
                }
                mine++;
            }
            Interlocked.Add(ref total, mine);
        })));
        return total / stop.Elapsed.TotalSeconds;
    }
}
