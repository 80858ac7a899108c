using System.Text;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Live;

/// <summary>Close descriptions as the WebSocket protocol allows them: at most 123 bytes of UTF-8 (RFC 6455, 5.5).</summary>
public static class LiveCloseReason
{
    public const int MaxBytes = 123;

    /// <summary><paramref name="text"/> cut to <see cref="MaxBytes"/> on a character boundary, without control characters.</summary>
    public static string Fit(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var clean = PrintableText.Of(text, text.Length);
        if (Encoding.UTF8.GetByteCount(clean) <= MaxBytes)
        {
            return clean;
        }
        var builder = new StringBuilder(MaxBytes);
        var bytes = 0;
        foreach (var rune in clean.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > MaxBytes - 3)
            {
                break;
            }
            bytes += rune.Utf8SequenceLength;
            builder.Append(rune.ToString());
        }
        return builder.Append("...").ToString();
    }
}
