namespace GeminiParty;

/// <summary>A key's billing tier (<c>tier=</c> in the key file): which keys serve first.</summary>
public enum KeyTier
{
    /// <summary>The default: serves first (unless PAID_FIRST).</summary>
    Free = 0,
    /// <summary>Serves a model only when no free key can (unless PAID_FIRST).</summary>
    Paid = 1,
}
