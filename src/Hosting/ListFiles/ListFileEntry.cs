using System.Globalization;

namespace GeminiParty.Hosting.ListFiles;

/// <summary>
/// One line of a list file: its positional fields (a key; a client's name and token) and its <c>name=value</c>
/// attributes. The typed readers throw <see cref="ListFileFormatException"/> naming the line and the attribute, never
/// the line's text, since fields may be secrets.
/// </summary>
public sealed record ListFileEntry(int Line, IReadOnlyList<string> Fields, IReadOnlyDictionary<string, string> Attributes)
{
    public string? Text(string name) => Attributes.TryGetValue(name, out var value) ? value : null;

    public int Integer(string name, int defaultValue, int min, int max)
    {
        if (!Attributes.TryGetValue(name, out var value))
        {
            return defaultValue;
        }
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? number
            : throw new ListFileFormatException(Line, $"'{name}' must be a whole number from {min} to {max}");
    }

    public long? Long(string name, long min, long max)
    {
        if (!Attributes.TryGetValue(name, out var value))
        {
            return null;
        }
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? number
            : throw new ListFileFormatException(Line, $"'{name}' must be a whole number from {min} to {max}");
    }

    public bool Boolean(string name, bool defaultValue)
    {
        if (!Attributes.TryGetValue(name, out var value))
        {
            return defaultValue;
        }
        return value.ToLowerInvariant() switch
        {
            "true" or "yes" or "1" => true,
            "false" or "no" or "0" => false,
            _ => throw new ListFileFormatException(Line, $"'{name}' must be true or false"),
        };
    }

    /// <summary>One of the allowed words (compared without case), or the default when absent.</summary>
    public string Choice(string name, string defaultValue, params string[] allowed)
    {
        if (!Attributes.TryGetValue(name, out var value))
        {
            return defaultValue;
        }
        return allowed.FirstOrDefault(word => string.Equals(word, value, StringComparison.OrdinalIgnoreCase))
            ?? throw new ListFileFormatException(Line, $"'{name}' must be one of {string.Join(", ", allowed)}");
    }
}
