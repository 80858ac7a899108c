namespace GeminiParty.Frontend.Forwarding;

/// <summary>Text a client sent, fit to quote back in an error message: control characters removed, length bounded.</summary>
public static class PrintableText
{
    public static string Of(string? text, int maxLength) =>
        string.IsNullOrEmpty(text) ? "" : new string(text.Where(c => !char.IsControl(c)).Take(maxLength).ToArray());
}
