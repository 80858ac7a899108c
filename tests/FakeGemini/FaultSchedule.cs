using System.Collections.Concurrent;

namespace GeminiParty.FakeGemini;

/// <summary>Per-key scripted faults, each firing a limited number of times.</summary>
internal sealed class FaultSchedule
{
    private readonly ConcurrentDictionary<string, Entry> _byKey = new(StringComparer.Ordinal);

    public void Set(string key, FakeFault fault, int times)
    {
        if (times <= 0)
        {
            _byKey.TryRemove(key, out _);
            return;
        }

        _byKey[key] = new Entry(fault, times);
    }

    public void Clear() => _byKey.Clear();

    /// <summary>The fault to apply to this request, consuming one of its remaining uses.</summary>
    public FakeFault? Take(string key)
    {
        if (!_byKey.TryGetValue(key, out var entry))
        {
            return null;
        }

        while (true)
        {
            var remaining = Volatile.Read(ref entry.Remaining);
            if (remaining == int.MaxValue)
            {
                return entry.Fault;
            }

            if (remaining <= 0)
            {
                _byKey.TryRemove(KeyValuePair.Create(key, entry));
                return null;
            }

            if (Interlocked.CompareExchange(ref entry.Remaining, remaining - 1, remaining) == remaining)
            {
                if (remaining == 1)
                {
                    // Remove only this entry: a concurrent SetFault may already have replaced it.
                    _byKey.TryRemove(KeyValuePair.Create(key, entry));
                }

                return entry.Fault;
            }
        }
    }

    private sealed class Entry(FakeFault fault, int times)
    {
        public readonly FakeFault Fault = fault;
        public int Remaining = times;
    }
}
