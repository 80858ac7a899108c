using GeminiParty.PoolBench;

// Pool micro-benchmarks (Stopwatch loops; BenchmarkDotNet's many processes take minutes on 2 shared cores):
//   dotnet run -c Release --project bench/PoolBench -- [--seconds S] [--out FILE]
// 1. rotation: ModelRotation.Take of one key + KeySlot.Count, the work of one lease without Orleans, for 10..10,000 keys
// 2. grain: LeaseAsync on one KeyPoolGrain in an in-process silo (as the embedded frontend calls it), sequential
//    and from concurrent callers, for 10..10,000 keys, with the fairness check over every run
// 3. cluster: the same from a client through a 2-silo in-process test cluster (gateway hop, maybe silo-to-silo)
// 4. clients: a named client's admission on its ClientGrain through the same kind of cluster (--only clients runs just it)
var seconds = 2.0;
string? output = null;
string? only = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seconds": seconds = double.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--out": output = args[++i]; break;
        case "--only": only = args[++i]; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}; use --seconds S, --out FILE, --only clients"); return 2;
    }
}

var duration = TimeSpan.FromSeconds(seconds);
int[] keyCounts = [10, 100, 1_000, 10_000];
var report = new Report();
report.Line($"Pool micro-benchmarks: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {seconds:0.#} s per measurement, " +
    $"GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}.");

var fair = true;
if (only is null)
{
    RotationBench.Run(report, keyCounts, duration);
    fair = await GrainLeaseBench.RunAsync(report, keyCounts, duration);
    await ClusterLeaseBench.RunAsync(report, keyCounts[0], duration);
}
await ClientAdmissionBench.RunAsync(report, duration);

Console.WriteLine(report);
if (output is not null)
{
    await File.WriteAllTextAsync(output, report.ToString());
}
return fair ? 0 : 1;
