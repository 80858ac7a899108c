namespace GeminiParty;

/// <summary>
/// Each model's rotation, and the model names the pool knows. Counters and cooldowns are kept per model only for
/// <see cref="KnownModels"/>; attempts on other names count under <see cref="KnownModels.Unknown"/>. Each name still
/// gets its own rotation from its first lease (a new model's first requests go round the ring in order), but at most
/// <see cref="KnownModels.MaxUnknownTracked"/> names not known yet do.
/// </summary>
internal sealed class PoolRotations(PoolKeys keys, bool paidFirst)
{
    private readonly KnownModels _known = new();
    private readonly Dictionary<string, ModelRotation> _rotations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModelRotation> _unknownRotations = new(StringComparer.Ordinal);

    public bool IsKnown(string model) => _known.Contains(model);

    /// <summary>The name a model's counts go under: its own when known, <see cref="KnownModels.Unknown"/> otherwise.</summary>
    public string Bucket(string model) => _known.Bucket(model);

    public ModelRotation For(string model, DateTimeOffset now)
    {
        if (_rotations.TryGetValue(model, out var rotation) || _unknownRotations.TryGetValue(model, out rotation))
        {
            return rotation;
        }
        rotation = new ModelRotation(model, keys.Slots, keys.Out, paidFirst, now);
        if (_known.Contains(model))
        {
            _rotations[model] = rotation;
        }
        else
        {
            if (_unknownRotations.Count >= KnownModels.MaxUnknownTracked)
            {
                _unknownRotations.Clear(); // made-up names, most likely: they start over rather than pile up
            }
            _unknownRotations[model] = rotation;
        }
        return rotation;
    }

    /// <summary>Learns the report's model if the outcome shows upstream serves it, and returns the name to count it under.</summary>
    public string Learn(AttemptReport report)
    {
        if (_known.Contains(report.Model))
        {
            return report.Model;
        }
        if (!_known.Learn(report.Model, report.Outcome))
        {
            return KnownModels.Unknown;
        }
        if (_unknownRotations.Remove(report.Model, out var rotation))
        {
            _rotations[report.Model] = rotation; // keeps its place in the ring
        }
        return report.Model;
    }

    /// <summary>Learns the models a key's stored counters or cooldowns show upstream serves.</summary>
    public void Learn(KeyRecord record)
    {
        foreach (var model in record.Cooldowns.Keys)
        {
            _known.Add(model);
        }
        foreach (var (model, counters) in record.Models)
        {
            if (counters.Successes + counters.RateLimited + counters.DailyQuotaExhausted > 0)
            {
                _known.Add(model);
            }
        }
    }

    /// <summary>After a key's marks or cooldowns cleared: back in every rotation it may serve.</summary>
    public void Rejoin(KeySlot slot, DateTimeOffset now)
    {
        keys.UpdateOut(slot);
        foreach (var rotation in _rotations.Values.Concat(_unknownRotations.Values))
        {
            rotation.Rejoin(slot.Alias.Index, now);
        }
    }

    /// <summary>After the key list changed: every rotation starts again in index order over the new list.</summary>
    public void StartOver(DateTimeOffset now)
    {
        // the keys added join the tail; each key keeps its cooldowns
        foreach (var model in _rotations.Keys.ToArray())
        {
            _rotations[model] = new ModelRotation(model, keys.Slots, keys.Out, paidFirst, now);
        }
        _unknownRotations.Clear();
    }
}
