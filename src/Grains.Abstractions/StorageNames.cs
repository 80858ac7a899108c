namespace GeminiParty;

/// <summary>Names shared by the silo configuration and the grains that use them.</summary>
public static class StorageNames
{
    /// <summary>The grain storage provider that holds every <see cref="IKeyGrain"/>'s state.</summary>
    public const string KeyPool = "keypool";

    /// <summary>The grain storage provider that holds every <see cref="IClientGrain"/>'s usage.</summary>
    public const string Clients = "clients";

    /// <summary>The grain storage provider that holds every <see cref="IResourceGrain"/>'s binding.</summary>
    public const string Resources = "resources";

    /// <summary>
    /// The grain storage provider that holds the record of each interaction (the Interactions API): one per turn, so
    /// it is kept apart from the other resources' records, compact, and expired by Redis itself.
    /// </summary>
    public const string Interactions = "interactions";
}

/// <summary>Keys of services the grains resolve by name.</summary>
public static class ServiceKeys
{
    /// <summary>
    /// The <see cref="TimeProvider"/> the pool decides cooldowns with. Keyed so tests can move the pool's clock
    /// without moving Orleans' own (membership, timers).
    /// </summary>
    public const string PoolClock = "gp.pool-clock";
}

/// <summary>Identities of well-known grains.</summary>
public static class GrainIds
{
    /// <summary>The one pool every frontend leases from.</summary>
    public const string DefaultPool = "default";
}
