namespace GeminiParty;

/// <summary>The pool's answer to a lease: a key to use, or when the earliest key returns.</summary>
[GenerateSerializer, Immutable, Alias("gp.KeyLease")]
public sealed record KeyLease(
    [property: Id(0)] KeyAlias? Key,
    [property: Id(1)] DateTimeOffset? RetryAt,
    [property: Id(2)] bool AllInvalid)
{
    public static KeyLease Granted(KeyAlias key) => new(key, null, false);

    /// <summary>No key is usable for the model now; <paramref name="retryAt"/> is when the first one returns.</summary>
    public static KeyLease Exhausted(DateTimeOffset? retryAt, bool allInvalid) => new(null, retryAt, allInvalid);
}
