using System.Collections.Frozen;

namespace GeminiParty.Hosting;

/// <summary>The keys in force in this process: GEMINI_API_KEY's first, then the key file's (a key in both takes the file's attributes).</summary>
public sealed class UpstreamKeySet
{
    public UpstreamKeySet(IReadOnlyList<string> fromVariable, IReadOnlyList<UpstreamKey> fromFile)
    {
        var fileAttributes = fromFile.ToDictionary(key => key.Secret, key => key.Attributes, StringComparer.Ordinal);
        var keys = new List<UpstreamKey>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var secret in fromVariable)
        {
            if (seen.Add(secret))
            {
                keys.Add(new UpstreamKey(secret, fileAttributes.GetValueOrDefault(secret) ?? KeyAttributes.Default));
            }
        }
        foreach (var key in fromFile)
        {
            if (seen.Add(key.Secret))
            {
                keys.Add(key);
            }
        }
        Keys = keys;
        SecretByFingerprint = keys.ToFrozenDictionary(key => key.Fingerprint, key => key.Secret, StringComparer.Ordinal);
        Configured = keys.Select(key => new ConfiguredKey(key.Fingerprint, key.Attributes)).ToArray();
    }

    public IReadOnlyList<UpstreamKey> Keys { get; }

    public FrozenDictionary<string, string> SecretByFingerprint { get; }

    /// <summary>The list as the pool learns it: fingerprints and attributes.</summary>
    public IReadOnlyList<ConfiguredKey> Configured { get; }
}
