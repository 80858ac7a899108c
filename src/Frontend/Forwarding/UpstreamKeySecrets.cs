using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;
using GeminiParty.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// The only holder of upstream secrets in the frontend: maps a leased alias to its key, and masks keys out of any text
/// that upstream sends back (Google's 403 names the suspended key).
/// </summary>
public sealed partial class UpstreamKeySecrets
{
    private readonly FrozenDictionary<string, string> _byFingerprint;
    private readonly string[] _keys;

    public UpstreamKeySecrets(IOptions<UpstreamKeysOptions> options)
    {
        _keys = [.. options.Value.Keys];
        _byFingerprint = _keys.ToFrozenDictionary(UpstreamKeyList.Fingerprint, key => key, StringComparer.Ordinal);
        Aliases = UpstreamKeyList.Aliases(_keys);
    }

    public IReadOnlyList<KeyAlias> Aliases { get; }

    /// <summary>The secret for an alias, if this process holds it (during a rolling update it may not).</summary>
    public bool TryGetSecret(KeyAlias alias, out string secret) =>
        _byFingerprint.TryGetValue(alias.Fingerprint, out secret!);

    /// <summary>How the key shows in status: <c>AIza...x9Q1</c>, or the fingerprint when this process lacks the key.</summary>
    public string Masked(KeyAlias alias) =>
        _byFingerprint.TryGetValue(alias.Fingerprint, out var key) ? UpstreamKeyList.Mask(key) : $"#{alias.Fingerprint}";

    /// <summary>Replaces every pool key, and anything shaped like a Google API key, with its masked form.</summary>
    public ReadOnlyMemory<byte> MaskSecrets(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return body;
        }
        var text = Encoding.UTF8.GetString(body.Span);
        var masked = text;
        foreach (var key in _keys)
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
