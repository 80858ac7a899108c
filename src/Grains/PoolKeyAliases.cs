namespace GeminiParty;

/// <summary>
/// The keys this silo is configured with (GEMINI_API_KEY and GEMINI_API_KEY_FILE), as fingerprints and attributes:
/// the secrets are not kept. The host replaces the list when the key file changes; the pool activation on this silo
/// reads it on activation and checks it for changes every <c>KEY_LIST_CHECK</c> (see <see cref="KeyPoolGrain"/>).
/// </summary>
public sealed class PoolKeyAliases(IReadOnlyList<ConfiguredKey> keys)
{
    private IReadOnlyList<ConfiguredKey> _keys = keys;

    /// <summary>Keys of GEMINI_API_KEY alone, with no attributes (tests, and hosts without a key file).</summary>
    public PoolKeyAliases(IReadOnlyList<KeyAlias> aliases)
        : this(aliases.Select(alias => new ConfiguredKey(alias.Fingerprint, KeyAttributes.Default)).ToArray())
    {
    }

    /// <summary>The current list, in configured order. A new list is a new instance, so a reference compare tells a change.</summary>
    public IReadOnlyList<ConfiguredKey> Keys => Volatile.Read(ref _keys);

    public void Update(IReadOnlyList<ConfiguredKey> keys) => Volatile.Write(ref _keys, keys);
}
