namespace GeminiParty;

/// <summary>What an operator can do to one key through the admin API.</summary>
public enum KeyAdminAction
{
    /// <summary>Out of every rotation until enabled (persisted).</summary>
    Disable = 0,
    /// <summary>Clears a disable and an invalid mark: the key serves again.</summary>
    Enable = 1,
    /// <summary>Ends every cooldown of the key now.</summary>
    ClearCooldowns = 2,
    /// <summary>Probes the key now; restores it if the probe passes.</summary>
    Probe = 3,
    /// <summary>Zeroes the key's counters.</summary>
    Reset = 4,
}
