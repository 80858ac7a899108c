namespace GeminiParty;

/// <summary>
/// What the key file says about a key besides the key itself. None of it is secret, so the pool, the status and the
/// admin API may show it.
/// </summary>
/// <param name="Project">The Google Cloud project the key belongs to; keys of one project share its quota. Null: a project of its own.</param>
/// <param name="Tier">Free keys serve first, paid keys when no free key can (PAID_FIRST reverses it).</param>
/// <param name="Weight">Turns per round of the rotation, 1 or more.</param>
/// <param name="Note">A free-form label for people.</param>
[GenerateSerializer, Immutable, Alias("gp.KeyAttributes")]
public sealed record KeyAttributes(
    [property: Id(0)] string? Project = null,
    [property: Id(1)] KeyTier Tier = KeyTier.Free,
    [property: Id(2)] int Weight = 1,
    [property: Id(3)] string? Note = null)
{
    /// <summary>What a key given in GEMINI_API_KEY (no attributes) has.</summary>
    public static readonly KeyAttributes Default = new();

    /// <summary>The highest weight a key may have: it bounds a round's length, and so how far rotation may drift.</summary>
    public const int MaxWeight = 100;
}
