namespace GeminiParty;

/// <summary>The aliases of the keys this silo was configured with (GEMINI_API_KEY). The secrets are not kept.</summary>
public sealed class PoolKeyAliases(IReadOnlyList<KeyAlias> aliases)
{
    public IReadOnlyList<KeyAlias> Aliases { get; } = aliases;
}
