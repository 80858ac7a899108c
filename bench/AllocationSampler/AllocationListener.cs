using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace GeminiParty.AllocationSampler;

/// <summary>
/// Sums the runtime's allocation samples (GCAllocationTick: one event per ~100 KB allocated, naming the type that
/// crossed the mark) by type name, so the bytes per type are a sample in proportion to what each type allocates.
/// </summary>
internal sealed class AllocationListener : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    public ConcurrentDictionary<string, long> BytesByType { get; } = new(StringComparer.Ordinal);

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.Payload is not { } payload || e.PayloadNames is not { } names)
        {
            return;
        }
        var type = names.IndexOf("TypeName") is var t and >= 0 ? payload[t] as string ?? "?" : "?";
        var bytes = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(payload[a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        BytesByType.AddOrUpdate(type, bytes, (_, sum) => sum + bytes);
    }
}
