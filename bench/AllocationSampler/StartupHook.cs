using GeminiParty.AllocationSampler;

/// <summary>
/// Loaded into any .NET process with <c>DOTNET_STARTUP_HOOKS=.../GeminiParty.AllocationSampler.dll</c>: every 2 s it
/// writes the types that allocated the most so far, with their share, to <c>ALLOCATION_SAMPLER_OUT</c> (default
/// /tmp/allocations.txt). Used to find what a request allocates (docs/benchmarks.md), without a profiler.
/// </summary>
internal static class StartupHook
{
    private static AllocationListener? _listener;

    public static void Initialize()
    {
        _listener = new AllocationListener();
        var path = Environment.GetEnvironmentVariable("ALLOCATION_SAMPLER_OUT") ?? "/tmp/allocations.txt";
        var writer = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(2000);
                var total = Math.Max(1, _listener.BytesByType.Values.Sum());
                var lines = _listener.BytesByType.OrderByDescending(pair => pair.Value).Take(60)
                    .Select(pair => $"{pair.Value * 100.0 / total,6:0.00}% {pair.Value,14} {pair.Key}");
                File.WriteAllLines(path, lines.Prepend($"sampled bytes {total}"));
            }
        }) { IsBackground = true, Name = "allocation sampler" };
        writer.Start();
    }
}
