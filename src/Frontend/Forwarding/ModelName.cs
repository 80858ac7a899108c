using System.Buffers;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>Validates model names before any of them goes into an upstream URL.</summary>
public static class ModelName
{
    private const int MaxLength = 256;

    /// <summary>The rules, as error messages state them.</summary>
    public const string Rules = "use letters, digits, '.', '-' and '_' (optionally after 'models/'), at most 256 characters.";
    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");

    /// <summary>
    /// Accepts <c>gemini-2.0-flash</c> or <c>models/gemini-2.0-flash</c> and returns the bare name; letters, digits,
    /// '.', '-' and '_' only, no "..", at most 256 characters.
    /// </summary>
    public static bool TryNormalize(string? raw, out string model)
    {
        model = "";
        if (string.IsNullOrEmpty(raw))
        {
            return false;
        }
        var name = raw.StartsWith("models/", StringComparison.Ordinal) ? raw[7..] : raw;
        if (name.Length is 0 or > MaxLength || name.AsSpan().ContainsAnyExcept(Allowed) || name.Contains("..", StringComparison.Ordinal) || name[0] == '.')
        {
            return false;
        }
        model = name;
        return true;
    }
}
