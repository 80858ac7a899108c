using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GeminiParty.PoolBench;

/// <summary>
/// LeaseAsync through Orleans on one pool grain in a silo co-hosted in this process, as the embedded frontend
/// calls it: one caller (latency per lease) and many concurrent callers (leases per second).
/// </summary>
internal static class GrainLeaseBench
{
    private const string Model = "gemini-2.5-flash";
    private static readonly int[] Concurrency = [1, 8, 64];

    /// <summary>Returns whether every run met the fairness bound.</summary>
    public static async Task<bool> RunAsync(Report report, int[] keyCounts, TimeSpan duration)
    {
        report.Line();
        report.Line("### LeaseAsync on one KeyPoolGrain, in-process silo (memory storage)");
        report.Line();
        report.Line("Fairness: over each whole run, every key's lease count is within ±1 of the run's total / keys " +
            "(max - min <= 1), however many callers lease at once.");
        report.Line();
        report.Line("| keys | pool activation ms | callers | leases/s | us per lease (1 caller) | cost vs 10 keys | fairness (min..max per key) |");
        report.Line("|---:|---:|---:|---:|---:|---:|---|");
        var allFair = true;
        double? baseline = null;
        var port = 21_111;
        // a first, unreported pass: the first host otherwise pays for tiered JIT compilation that the others do not
        foreach (var keys in (int[])[keyCounts[0], .. keyCounts])
        {
            var warmUp = baseline is null && port == 21_111;
            var aliases = UpstreamKeyList.Aliases(Enumerable.Range(0, keys).Select(i => $"AIzaPoolBench{i:D5}-0123456789abcdefghij").ToArray());
            using var host = await StartSiloAsync(aliases, port++, port++);
            var pool = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool);
            var activation = Stopwatch.StartNew();
            await pool.PingAsync();
            var activationMs = activation.Elapsed.TotalMilliseconds;
            await LeaseLoopAsync(pool, keys, 8, duration / 2); // warm-up
            foreach (var callers in Concurrency)
            {
                if (warmUp)
                {
                    await LeaseLoopAsync(pool, keys, callers, duration);
                    continue;
                }
                SettleHeap();
                var (perSecond, min, max) = await LeaseLoopAsync(pool, keys, callers, duration);
                var fair = max - min <= 1;
                allFair &= fair;
                string cost = "", relative = "";
                if (callers == 1)
                {
                    var us = 1e6 / perSecond;
                    baseline ??= us;
                    cost = $"{us:0.00}";
                    relative = $"{us / baseline.Value:0.00}";
                }
                report.Line($"| {keys:N0} | {(callers == Concurrency[0] ? $"{activationMs:0}" : "")} | {callers} | {perSecond:N0} | {cost} | {relative} | {(fair ? "ok" : "VIOLATED")} ({min}..{max}) |");
                Report.Progress($"grain {keys} keys, {callers} callers: {perSecond:N0} leases/s, per key {min}..{max}");
            }
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(3)); // the final counter flush is not measured
            await host.StopAsync(stopping.Token);
        }
        return allFair;
    }

    /// <summary>
    /// A full, compacting collection before each measured run, so that none of them pays for the garbage the pool's
    /// activation left (10,000 key grains read, for the largest pool): the figure sought is the steady-state lease.
    /// </summary>
    internal static void SettleHeap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    /// <summary>Callers lease in a loop until the time is up; returns leases/s and the least and most leased key.</summary>
    internal static async Task<(double PerSecond, long Min, long Max)> LeaseLoopAsync(IKeyPoolGrain pool, int keys, int callers, TimeSpan duration)
    {
        var counts = new long[keys];
        var stop = Stopwatch.StartNew();
        var total = 0L;
        var workers = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            var mine = 0L;
            while (stop.Elapsed < duration)
            {
                var lease = await pool.LeaseAsync(Model);
                Interlocked.Increment(ref counts[lease.Keys[0].Index]);
                mine++;
            }
            Interlocked.Add(ref total, mine);
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = stop.Elapsed.TotalSeconds;
        return (total / elapsed, counts.Min(), counts.Max());
    }

    private static async Task<IHost> StartSiloAsync(IReadOnlyList<KeyAlias> aliases, int siloPort, int gatewayPort)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace); // stdout is the report
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort);
            silo.AddMemoryGrainStorage(StorageNames.KeyPool);
            silo.Services.AddKeyedSingleton(ServiceKeys.PoolClock, TimeProvider.System);
            silo.Services.AddSingleton(new PoolKeyAliases(aliases));
            silo.Services.AddOptions<KeyPoolOptions>();
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
