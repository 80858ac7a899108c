namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// The key that made a request's resources, leased; or why not: cooling past MAX_AFFINITY_WAIT (<see cref="CoolingFor"/>
/// says for how long), or no longer usable (invalid or removed: the resources must be re-created).
/// </summary>
public readonly record struct OwnerLease(LeasedKey? Key, TimeSpan? CoolingFor);
