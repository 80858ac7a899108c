using System.Buffers;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Validates a client path that is forwarded as it came (the OpenAI-compatible catch-all), so it cannot leave the API
/// it is forwarded under: segments of letters, digits, '.', '-', '_' and ':', none of them "." or "..", no empty ones.
/// </summary>
public static class UpstreamPath
{
    private const int MaxLength = 512;

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:/");

    public static bool IsSafe(string? path)
    {
        if (string.IsNullOrEmpty(path) || path.Length > MaxLength || path.AsSpan().ContainsAnyExcept(Allowed))
        {
            return false;
        }
        foreach (var segment in path.Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                return false;
            }
        }
        return true;
    }
}
