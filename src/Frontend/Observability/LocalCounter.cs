using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace GeminiParty.Frontend.Observability;

/// <summary>
/// A counter the request path adds to with one dictionary lookup and one interlocked add, exported as an OpenTelemetry
/// observable counter that reads the totals at each collection. A measurement through the SDK instead looks its tags up
/// in the SDK's own table on every call, and a request made five of them (the profile: docs/benchmarks.md).
/// The series are the label combinations seen, as with a plain counter; the caller keeps them bounded.
/// </summary>
/// <typeparam name="TKey">The label values, as cached strings.</typeparam>
internal sealed class LocalCounter<TKey>(Func<TKey, TagList> tags) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, StrongBox<long>> _totals = new();

    public void Add(TKey labels, long value) =>
        Interlocked.Add(ref _totals.GetOrAdd(labels, static _ => new StrongBox<long>()).Value, value);

    /// <summary>The callback of the observable counter: every series with its total so far.</summary>
    public IEnumerable<Measurement<long>> Observe()
    {
        foreach (var (labels, total) in _totals)
        {
            yield return new Measurement<long>(Volatile.Read(ref total.Value), tags(labels));
        }
    }
}
