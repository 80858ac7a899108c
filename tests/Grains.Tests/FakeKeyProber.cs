using System.Collections.Concurrent;

namespace GeminiParty.Grains.Tests;

/// <summary>The silo's prober for grain tests: answers what a test set per fingerprint (Passed by default) and counts the probes.</summary>
public sealed class FakeKeyProber : IKeyProber
{
    private readonly ConcurrentDictionary<string, KeyProbeResult> _answers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public void Answer(string fingerprint, KeyProbeResult result) => _answers[fingerprint] = result;

    public int Count(string fingerprint) => _counts.GetValueOrDefault(fingerprint);

    public Task<KeyProbeResult> ProbeAsync(string fingerprint, CancellationToken cancellationToken)
    {
        _counts.AddOrUpdate(fingerprint, 1, (_, count) => count + 1);
        return Task.FromResult(_answers.GetValueOrDefault(fingerprint, KeyProbeResult.Passed));
    }
}
