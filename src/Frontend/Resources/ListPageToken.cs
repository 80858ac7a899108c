using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace GeminiParty.Frontend.Resources;

/// <summary>
/// Where a merged list goes on: the key to ask next (by fingerprint, the non-secret SHA-256 prefix every status shows)
/// and that key's own upstream page token, for one collection. Opaque to clients (base64url of a small JSON object);
/// never holds a key or its position in the pool, so a reload that moves keys around does not skip or repeat a key.
/// <see cref="Catalog"/> marks the voices list's last part, Google's prebuilt voices as one key lists them.
/// </summary>
public sealed record ListPageToken(string Collection, string Fingerprint, string? UpstreamToken, bool Catalog = false)
{
    public string Encode()
    {
        var fields = new Dictionary<string, object?> { ["c"] = Collection, ["k"] = Fingerprint, ["t"] = UpstreamToken };
        if (Catalog)
        {
            fields["p"] = true;
        }
        return Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(fields));
    }

    /// <summary>The token, or null when <paramref name="text"/> is not one this gateway issued for <paramref name="collection"/>.</summary>
    public static ListPageToken? Decode(string text, string collection)
    {
        if (text.Length > 8192 || !Base64Url.IsValid(text))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(text));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("c", out var c) || c.ValueKind != JsonValueKind.String || c.GetString() != collection
                || !root.TryGetProperty("k", out var k) || k.ValueKind != JsonValueKind.String || k.GetString() is not { Length: > 0 } fingerprint)
            {
                return null;
            }
            var upstream = root.TryGetProperty("t", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var catalog = root.TryGetProperty("p", out var p) && p.ValueKind == JsonValueKind.True;
            return new ListPageToken(collection, fingerprint, upstream, catalog);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or DecoderFallbackException or InvalidOperationException) // a string that is not UTF-8
        {
            return null;
        }
    }
}
