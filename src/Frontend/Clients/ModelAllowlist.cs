namespace GeminiParty.Frontend.Clients;

/// <summary>
/// The models a client may use: names or <c>*</c> globs (<c>gemini-2.5-*</c>), from the <c>models=</c> attribute of its
/// clients file line. Without the attribute every model is allowed.
/// </summary>
public sealed class ModelAllowlist
{
    public static readonly ModelAllowlist Any = new([]);

    private readonly string[] _patterns;

    private ModelAllowlist(string[] patterns) => _patterns = patterns;

    public bool AllowsEverything => _patterns.Length == 0;

    /// <summary>Comma-separated names or globs; null when one holds a character no model name has.</summary>
    public static ModelAllowlist? Parse(string text)
    {
        var patterns = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pattern => pattern.StartsWith("models/", StringComparison.Ordinal) ? pattern[7..] : pattern)
            .ToArray();
        return patterns.Length > 0 && patterns.All(IsPattern) ? new ModelAllowlist(patterns) : null;
    }

    public bool Allows(string model)
    {
        if (_patterns.Length == 0)
        {
            return true;
        }
        foreach (var pattern in _patterns)
        {
            if (Matches(pattern, model))
            {
                return true;
            }
        }
        return false;
    }

    public override string ToString() => AllowsEverything ? "*" : string.Join(',', _patterns);

    private static bool IsPattern(string pattern) =>
        pattern.Length is > 0 and <= 256 && pattern.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '*');

    /// <summary>Glob match where <c>*</c> stands for any run of characters (greedy with backtracking to the last star).</summary>
    private static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }
}
