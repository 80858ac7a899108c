using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;
using GeminiParty.Hosting;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// The only holder of upstream secrets in the frontend: maps a leased alias to its key (by fingerprint, so a key file
/// reload that moves keys around changes nothing here), and masks keys out of any text that upstream sends back
/// (Google's 403 names the suspended key). Follows the key file: a reload swaps the whole table at once.
/// </summary>
public sealed partial class UpstreamKeySecrets
{
    private FrozenDictionary<string, string> _byFingerprint;
    private string[] _keys;

    public UpstreamKeySecrets(UpstreamKeySource source)
    {
        _byFingerprint = source.Current.SecretByFingerprint;
        _keys = [.. source.Current.Keys.Select(key => key.Secret)];
        Aliases = UpstreamKeyList.Aliases(_keys);
        source.Changed += set =>
        {
            // masking may read the old keys a moment longer than leasing: both tables hold every key in force
            Volatile.Write(ref _keys, [.. set.Keys.Select(key => key.Secret)]);
            Volatile.Write(ref _byFingerprint, set.SecretByFingerprint);
        };
    }

    /// <summary>The keys as configured at start (indexes for metric labels).</summary>
    public IReadOnlyList<KeyAlias> Aliases { get; }

    /// <summary>The fingerprints of the keys this process holds now (after any key file reload).</summary>
    public IEnumerable<string> Fingerprints => Volatile.Read(ref _byFingerprint).Keys;

    /// <summary>The secret for an alias, if this process holds it (during a rolling update it may not).</summary>
    public bool TryGetSecret(KeyAlias alias, out string secret) =>
        Volatile.Read(ref _byFingerprint).TryGetValue(alias.Fingerprint, out secret!);

    /// <summary>How the key shows in status: <c>AIza...x9Q1</c>, or the fingerprint when this process lacks the key.</summary>
    public string Masked(KeyAlias alias) =>
        Volatile.Read(ref _byFingerprint).TryGetValue(alias.Fingerprint, out var key) ? UpstreamKeyList.Mask(key) : $"#{alias.Fingerprint}";

    /// <summary>Replaces every pool key, and anything shaped like a Google API key, with its masked form.</summary>
    public ReadOnlyMemory<byte> MaskSecrets(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return body;
        }
        var text = Encoding.UTF8.GetString(body.Span);
        var masked = text;
        foreach (var key in Volatile.Read(ref _keys))
        {
            if (masked.Contains(key, StringComparison.Ordinal))
            {
                masked = masked.Replace(key, UpstreamKeyList.Mask(key), StringComparison.Ordinal);
            }
        }
        masked = GoogleApiKeyShape().Replace(masked, match => UpstreamKeyList.Mask(match.Value));
        return ReferenceEquals(masked, text) ? body : Encoding.UTF8.GetBytes(masked);
    }

    public string MaskSecrets(string text) => Encoding.UTF8.GetString(MaskSecrets(Encoding.UTF8.GetBytes(text)).Span);

    [GeneratedRegex("AIza[0-9A-Za-z_-]{35}")]
    private static partial Regex GoogleApiKeyShape();
}
