namespace GeminiParty;

/// <summary>
/// How every process names an upstream key without holding it: its position in GEMINI_API_KEY and a
/// fingerprint (a SHA-256 prefix). Grains, Redis, logs and responses only ever see this.
/// </summary>
[GenerateSerializer, Immutable, Alias("gp.KeyAlias")]
public sealed record KeyAlias([property: Id(0)] int Index, [property: Id(1)] string Fingerprint)
{
    public override string ToString() => $"#{Index}:{Fingerprint}";
}
