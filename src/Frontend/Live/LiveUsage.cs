using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// The tokens a Live session used: the sum of the <c>usageMetadata</c> objects in upstream's messages (Google reports
/// each turn's use in the message that ends it). Each message's last <see cref="TokenUsageReader.TailBytes"/> bytes are
/// kept as they pass (the usage object is a message's last field, after any audio), and read only when the message
/// has ended and names <c>usageMetadata</c>; nothing else of a message is parsed or buffered.
/// </summary>
public sealed class LiveUsage : IDisposable
{
    private ResponseTail _tail;
    private long _prompt;
    private long _response;
    private long _total;
    private bool _any;

    /// <summary>Takes one received fragment of a server message.</summary>
    public void Append(ReadOnlySpan<byte> fragment, bool endOfMessage)
    {
        _tail.Append(fragment);
        if (!endOfMessage)
        {
            return;
        }
        Span<byte> ordered = stackalloc byte[TokenUsageReader.TailBytes];
        var tail = _tail.CopyTo(ordered);
        _tail.Dispose();
        _tail = default;
        if (tail.IndexOf("\"usageMetadata\""u8) >= 0 && TokenUsageReader.TryRead(tail, out var tokens))
        {
            _prompt += tokens.Prompt;
            _response += tokens.Candidates;
            _total += tokens.Total;
            _any = true;
        }
    }

    /// <summary>The sum so far; null when no message carried usage.</summary>
    public TokenCounts? Total => _any ? new TokenCounts(_prompt, _response, _total) : null;

    public void Dispose() => _tail.Dispose();
}
