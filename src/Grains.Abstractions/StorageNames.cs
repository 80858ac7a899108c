namespace GeminiParty;

/// <summary>Names shared by the silo configuration and the grains that use them.</summary>
public static class StorageNames
{
    /// <summary>The grain storage provider that holds every <see cref="IKeyGrain"/>'s state.</summary>
    public const string KeyPool = "keypool";
}

/// <summary>Identities of well-known grains.</summary>
public static class GrainIds
{
    /// <summary>The one pool every frontend leases from.</summary>
    public const string DefaultPool = "default";
}
