using System.Security.Cryptography;
using System.Text;

namespace GeminiParty;

/// <summary>Parses GEMINI_API_KEY and derives the aliases that stand for its keys everywhere but the upstream call.</summary>
public static class UpstreamKeyList
{
    private static readonly char[] Separators = [',', '\n', '\r', ';'];

    /// <summary>Splits on commas and newlines, trims, drops empties and duplicates, keeps the first order.</summary>
    public static IReadOnlyList<string> Parse(string? raw) =>
        string.IsNullOrWhiteSpace(raw)
            ? []
            : raw.Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Distinct(StringComparer.Ordinal)
                .ToArray();

    /// <summary>A stable, non-reversible name for a key: the first 12 hex digits of its SHA-256.</summary>
    public static string Fingerprint(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return Convert.ToHexStringLower(hash[..6]);
    }

    public static IReadOnlyList<KeyAlias> Aliases(IReadOnlyList<string> keys) =>
        keys.Select((key, index) => new KeyAlias(index, Fingerprint(key))).ToArray();

    /// <summary>The form a person may see: the first four and last four characters, as in <c>AIza...x9Q1</c>.</summary>
    public static string Mask(string key) =>
        key.Length <= 10 ? new string('*', key.Length) : $"{key[..4]}...{key[^4..]}";
}
