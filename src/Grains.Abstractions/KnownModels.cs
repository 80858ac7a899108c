namespace GeminiParty;

/// <summary>
/// The model names upstream has shown it serves: the only names the pool and the frontends keep state under (counters,
/// cooldowns, metric labels). A client can put any well-formed name in a request; every name upstream has not served
/// yet shares <see cref="Unknown"/>, so made-up names cannot grow memory, storage, the status page or metric series.
/// Reads take no lock.
/// </summary>
public sealed class KnownModels
{
    /// <summary>The name everything about not-yet-known models is kept under; no request can name it (it has parentheses).</summary>
    public const string Unknown = "(unknown)";

    /// <summary>
    /// The most names kept. Google serves a few dozen models; this bounds what an upstream that accepts any name (a
    /// proxy, a test double) could make a pool remember. Names beyond it stay <see cref="Unknown"/>.
    /// </summary>
    public const int MaxCount = 256;

    /// <summary>
    /// Names not known yet that still get state of their own for a while: the pool's rotation for each, a frontend's
    /// lease entry for each. Beyond it the oldest idle ones are forgotten, so made-up names cannot grow either.
    /// </summary>
    public const int MaxUnknownTracked = 64;

    private readonly Lock _gate = new();
    private volatile HashSet<string> _names = new(StringComparer.Ordinal);

    public bool Contains(string model) => _names.Contains(model);

    /// <summary>The name to keep state for <paramref name="model"/> under: itself once known, else <see cref="Unknown"/>.</summary>
    public string Bucket(string model) => _names.Contains(model) ? model : Unknown;

    /// <summary>
    /// Learns <paramref name="model"/> when <paramref name="outcome"/> shows upstream serves it: an answer, or a quota
    /// that counts it. A 404 says it does not; a 400, a 5xx, a timeout or a dropped connection say nothing about it.
    /// </summary>
    /// <returns>Whether the name is known now.</returns>
    public bool Learn(string model, UpstreamOutcome outcome) =>
        outcome is UpstreamOutcome.Success or UpstreamOutcome.RateLimited or UpstreamOutcome.DailyQuotaExhausted
            ? Add(model)
            : Contains(model);

    /// <summary>Adds <paramref name="model"/> unless <see cref="MaxCount"/> names are known already.</summary>
    /// <returns>Whether the name is known now.</returns>
    public bool Add(string model)
    {
        if (_names.Contains(model))
        {
            return true;
        }
        lock (_gate)
        {
            if (_names.Contains(model))
            {
                return true;
            }
            if (_names.Count >= MaxCount || model == Unknown)
            {
                return false;
            }
            // copy on write: a handful of new names over a process' life, a lookup on every request
            _names = new HashSet<string>(_names, StringComparer.Ordinal) { model };
            return true;
        }
    }
}
