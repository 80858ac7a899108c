namespace GeminiParty;

/// <summary>
/// A key's health-probe schedule and its last result, persisted with the key so that a pool that moves to another silo
/// keeps the schedule instead of probing again at once.
/// </summary>
[GenerateSerializer, Alias("gp.ProbeRecord")]
public sealed class ProbeRecord
{
    /// <summary>When the next probe is due; null when none is scheduled (the key is healthy).</summary>
    [Id(0)] public DateTimeOffset? NextAt { get; set; }

    [Id(1)] public DateTimeOffset? LastAt { get; set; }

    [Id(2)] public KeyProbeResult? LastResult { get; set; }

    /// <summary>Probes in a row that did not pass: the back-off doubles with each.</summary>
    [Id(3)] public int FailedInARow { get; set; }

    [Id(4)] public long Passed { get; set; }

    [Id(5)] public long Failed { get; set; }

    public ProbeRecord Clone() => (ProbeRecord)MemberwiseClone();
}
