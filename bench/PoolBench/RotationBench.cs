using System.Diagnostics;

namespace GeminiParty.PoolBench;

/// <summary>The cost of the rotation itself: what LeaseAsync does in memory, without Orleans around it.</summary>
internal static class RotationBench
{
    private const string Model = "gemini-2.5-flash";

    public static void Run(Report report, int[] keyCounts, TimeSpan duration)
    {
        report.Line();
        report.Line("### Rotation alone (ModelRotation.Take of one key + KeySlot.Count, one thread)");
        report.Line();
        report.Line("| keys | ns per lease (median of 5) | vs 10 keys |");
        report.Line("|---:|---:|---:|");
        double? baseline = null;
        foreach (var keys in keyCounts)
        {
            var ns = Measure(keys, duration);
            baseline ??= ns;
            report.Line($"| {keys:N0} | {ns:0.0} | {ns / baseline.Value:0.00} |");
            Report.Progress($"rotation {keys} keys: {ns:0.0} ns/lease");
        }
    }

    private static double Measure(int keyCount, TimeSpan duration)
    {
        var now = DateTimeOffset.UtcNow;
        var slots = Enumerable.Range(0, keyCount).Select(i => new KeySlot(new KeyAlias(i, $"fp{i:D5}"), KeyAttributes.Default) { Group = i }).ToArray();
        var rotation = new ModelRotation(Model, slots, new bool[keyCount], paidFirst: false, now);
        const int Batch = 100_000;
        var samples = new List<double>();
        var sink = 0;
        var taken = new List<int>(1);
        for (var round = 0; round < 6; round++) // round 0 warms up (tiered JIT), then 5 timed rounds
        {
            var operations = 0L;
            var watch = Stopwatch.StartNew();
            var budget = duration / 5;
            while (watch.Elapsed < budget)
            {
                for (var i = 0; i < Batch; i++)
                {
                    taken.Clear();
                    rotation.Take(now, null, 1, taken);
                    var index = taken[0];
                    slots[index].Count(Model, UpstreamOutcome.Success, null, now);
                    sink += index;
                }
                operations += Batch;
            }
            if (round > 0)
            {
                samples.Add(watch.Elapsed.TotalNanoseconds / operations);
            }
        }
        GC.KeepAlive(sink);
        samples.Sort();
        return samples[samples.Count / 2];
    }
}
