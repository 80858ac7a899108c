using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GeminiParty.PoolBench;

/// <summary>
/// LeaseAsync through Orleans on one pool grain in a silo co-hosted in this process, as the embedded frontend
/// calls it: one caller (latency per lease) and many concurrent callers (leases per second). One silo per key count,
/// all started first; the one-caller latency is measured in <see cref="Rounds"/> rounds that go over every key count in
/// turn, and reported as the median, so that a change in the machine's load during the run shifts every key count alike
/// instead of the one measured at that moment.
/// </summary>
internal static class GrainLeaseBench
{
    private const string Model = "gemini-2.5-flash";
    private const int Rounds = 5;
    private static readonly int[] Concurrency = [8, 64];

    /// <summary>Returns whether every run met the fairness bound.</summary>
    public static async Task<bool> RunAsync(Report report, int[] keyCounts, TimeSpan duration)
    {
        report.Line();
        report.Line("### LeaseAsync on one KeyPoolGrain, in-process silo (memory storage)");
        report.Line();
        report.Line("Fairness: over each whole run, every key's lease count is within ±1 of the run's total / keys " +
            $"(max - min <= 1), however many callers lease at once. One caller: {Rounds} runs of {duration.TotalSeconds / 2:0.#} s " +
            "per key count, interleaved over the key counts; the median, and the range in brackets.");
        report.Line();
        report.Line("| keys | pool activation ms | callers | leases/s | us per lease (1 caller) | cost vs 10 keys | fairness (min..max per key) |");
        report.Line("|---:|---:|---:|---:|---:|---:|---|");
        var pools = new List<(int Keys, IHost Host, IKeyPoolGrain Pool, double ActivationMs)>();
        var port = 21_111;
        try
        {
            foreach (var keys in keyCounts)
            {
                var aliases = UpstreamKeyList.Aliases(Enumerable.Range(0, keys).Select(i => $"AIzaPoolBench{i:D5}-0123456789abcdefghij").ToArray());
                var host = await StartSiloAsync(aliases, port++, port++);
                var pool = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool);
                var activation = Stopwatch.StartNew();
                await pool.PingAsync();
                pools.Add((keys, host, pool, activation.Elapsed.TotalMilliseconds));
                await LeaseLoopAsync(pool, keys, 8, duration); // warm-up: tiered JIT, and the pool's first rotation
            }

            var allFair = true;
            var perLease = pools.ToDictionary(p => p.Keys, _ => new List<double>());
            var perSecondOne = pools.ToDictionary(p => p.Keys, _ => new List<double>());
            var fairOne = pools.ToDictionary(p => p.Keys, _ => true);
            for (var round = 0; round < Rounds; round++)
            {
                foreach (var (keys, _, pool, _) in pools)
                {
                    SettleHeap();
                    var (perSecond, min, max) = await LeaseLoopAsync(pool, keys, 1, duration / 2);
                    fairOne[keys] &= max - min <= 1;
                    perLease[keys].Add(1e6 / perSecond);
                    perSecondOne[keys].Add(perSecond);
                    Report.Progress($"grain {keys} keys, 1 caller, round {round + 1}: {1e6 / perSecond:0.00} us per lease, per key {min}..{max}");
                }
            }

            var baseline = Median(perLease[keyCounts[0]]);
            foreach (var (keys, _, pool, activationMs) in pools)
            {
                var us = perLease[keys];
                allFair &= fairOne[keys];
                report.Line($"| {keys:N0} | {activationMs:0} | 1 | {Median(perSecondOne[keys]):N0} | {Median(us):0.00} ({us.Min():0.00}-{us.Max():0.00}) | " +
                    $"{Median(us) / baseline:0.00} | {(fairOne[keys] ? "ok" : "VIOLATED")} (each of {Rounds} runs) |");
                foreach (var callers in Concurrency)
                {
                    SettleHeap();
                    var (leasesPerSecond, low, high) = await LeaseLoopAsync(pool, keys, callers, duration);
                    var fair = high - low <= 1;
                    allFair &= fair;
                    report.Line($"| {keys:N0} |  | {callers} | {leasesPerSecond:N0} |  |  | {(fair ? "ok" : "VIOLATED")} ({low}..{high}) |");
                    Report.Progress($"grain {keys} keys, {callers} callers: {leasesPerSecond:N0} leases/s, per key {low}..{high}");
                }
            }
            await StatusSnapshotAsync(report, pools.Select(p => (p.Keys, p.Pool)));
            return allFair;
        }
        finally
        {
            foreach (var (_, host, _, _) in pools)
            {
                using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(3)); // the final counter flush is not measured
                await host.StopAsync(stopping.Token);
                host.Dispose();
            }
        }
    }

    /// <summary>
    /// The pool's status snapshot, which /rotation-status and the status page read, once every key has been leased:
    /// its cost grows with the key count, and a large pool must still answer a status page promptly.
    /// </summary>
    private static async Task StatusSnapshotAsync(Report report, IEnumerable<(int Keys, IKeyPoolGrain Pool)> pools)
    {
        report.Line();
        report.Line("#### The status snapshot (GetStatusAsync, what /rotation-status reads), every key leased");
        report.Line();
        report.Line("| keys | ms per snapshot, median of 5 (range) |");
        report.Line("|---:|---:|");
        foreach (var (keys, pool) in pools)
        {
            await pool.GetStatusAsync(); // the first snapshot of a pool warms the JIT for it
            var timings = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                var watch = Stopwatch.StartNew();
                await pool.GetStatusAsync();
                timings.Add(watch.Elapsed.TotalMilliseconds);
            }
            report.Line($"| {keys:N0} | {Median(timings):0.0} ({timings.Min():0.0}-{timings.Max():0.0}) |");
            Report.Progress($"grain {keys} keys: status snapshot {Median(timings):0.0} ms");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
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
