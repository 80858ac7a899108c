namespace GeminiParty;

/// <summary>
/// The pool's answer to a lease: the next keys of the model's rotation in order, or, when no key is usable, when the
/// earliest one returns.
/// </summary>
/// <param name="Keys">The keys to use, in rotation order; empty when none is usable.</param>
/// <param name="RetryAt">With no keys: when the first cooling key returns, if any key cools rather than being invalid.</param>
/// <param name="AllInvalid">With no keys: every key of the pool is marked invalid.</param>
/// <param name="Version">
/// The pool's withdrawal count when it chose these keys (it starts from the clock's ticks, so a later activation's
/// versions are higher). A key withdrawn at a later version (a cooldown or invalid
/// mark the holder heard of first) must not be used from this lease.
/// </param>
[GenerateSerializer, Immutable, Alias("gp.KeyLease")]
public sealed record KeyLease(
    [property: Id(0)] KeyAlias[] Keys,
    [property: Id(1)] DateTimeOffset? RetryAt,
    [property: Id(2)] bool AllInvalid,
    [property: Id(3)] long Version);
