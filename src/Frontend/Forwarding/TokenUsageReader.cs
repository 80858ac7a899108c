using System.Buffers;
using System.Text.Json;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Finds the token use of a successful answer without buffering it: the relay keeps only the last
/// <see cref="TailBytes"/> bytes that passed through (<see cref="ResponseTail"/>), and at the end this reads the last
/// <c>"usageMetadata"</c> (native) or <c>"usage"</c> (OpenAI, and an interaction's) object in them. Both sit at the end of an answer and, in a
/// stream, in its last event, so the tail holds them; earlier events' partial counts are ignored by taking the last.
/// </summary>
public static class TokenUsageReader
{
    /// <summary>
    /// Enough for the usage object with its per-modality details plus what follows it (modelVersion, responseId, or
    /// an OpenAI stream's <c>data: [DONE]</c>).
    /// </summary>
    public const int TailBytes = 4096;

    public static bool TryRead(ReadOnlySpan<byte> tail, out TokenCounts tokens)
    {
        tokens = default;
        var at = LastKey(tail, "\"usageMetadata\""u8);
        var native = at >= 0;
        if (!native)
        {
            at = LastKey(tail, "\"usage\""u8);
            if (at < 0)
            {
                return false;
            }
        }
        var rest = tail[at..];
        var colon = rest.IndexOf((byte)':');
        if (colon < 0)
        {
            return false;
        }
        return TryReadObject(rest[(colon + 1)..], native, out tokens);
    }

    /// <summary>The last occurrence of a quoted key that is a JSON key, not text inside a string (where quotes are escaped).</summary>
    private static int LastKey(ReadOnlySpan<byte> tail, ReadOnlySpan<byte> quotedKey)
    {
        var end = tail.Length;
        while (end > 0)
        {
            var at = tail[..end].LastIndexOf(quotedKey);
            if (at < 0)
            {
                return -1;
            }
            var after = tail[(at + quotedKey.Length)..].TrimStart(" \t\r\n"u8);
            if ((at == 0 || tail[at - 1] != (byte)'\\') && !after.IsEmpty && after[0] == (byte)':')
            {
                return at;
            }
            end = at;
        }
        return -1;
    }

    private static bool TryReadObject(ReadOnlySpan<byte> json, bool native, out TokenCounts tokens)
    {
        tokens = default;
        long prompt = 0, candidates = 0, total = 0;
        var reader = new Utf8JsonReader(json, isFinalBlock: false, state: default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0)
                {
                    if (total == 0)
                    {
                        total = prompt + candidates;
                    }
                    tokens = new TokenCounts(prompt, candidates, total);
                    return true;
                }
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                {
                    continue;
                }
                ref var target = ref Field(ref reader, native, ref prompt, ref candidates, ref total, out var known);
                if (!reader.Read())
                {
                    return false;
                }
                if (known && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
                {
                    target = value;
                }
                else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                {
                    return false; // the object runs past the end of the tail
                }
            }
            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static ref long Field(ref Utf8JsonReader reader, bool native, ref long prompt, ref long candidates, ref long total, out bool known)
    {
        known = true;
        // an interaction's usage names its counts total_input_tokens and total_output_tokens
        if (reader.ValueTextEquals(native ? "promptTokenCount"u8 : "prompt_tokens"u8) || (!native && reader.ValueTextEquals("total_input_tokens"u8)))
        {
            return ref prompt;
        }
        // a Live API message names the answer's tokens responseTokenCount
        if (reader.ValueTextEquals(native ? "candidatesTokenCount"u8 : "completion_tokens"u8) || (native && reader.ValueTextEquals("responseTokenCount"u8))
            || (!native && reader.ValueTextEquals("total_output_tokens"u8)))
        {
            return ref candidates;
        }
        if (reader.ValueTextEquals(native ? "totalTokenCount"u8 : "total_tokens"u8))
        {
            return ref total;
        }
        known = false;
        return ref total;
    }
}

/// <summary>
/// The last <see cref="TokenUsageReader.TailBytes"/> bytes of a relayed answer, in a pooled ring buffer. Appending costs
/// one copy of the chunk (at most the ring's size), whatever came before; nothing is kept beyond the ring.
/// </summary>
public struct ResponseTail : IDisposable
{
    private const int Capacity = TokenUsageReader.TailBytes;
    private byte[]? _ring;
    private int _end;   // where the next byte goes
    private bool _full; // whether the ring has wrapped: then the oldest byte is at _end

    public void Append(ReadOnlySpan<byte> chunk)
    {
        _ring ??= ArrayPool<byte>.Shared.Rent(Capacity);
        if (chunk.Length >= Capacity)
        {
            chunk[^Capacity..].CopyTo(_ring);
            _end = 0;
            _full = true;
            return;
        }
        var first = Math.Min(chunk.Length, Capacity - _end);
        chunk[..first].CopyTo(_ring.AsSpan(_end));
        chunk[first..].CopyTo(_ring);
        _full |= _end + chunk.Length >= Capacity;
        _end = (_end + chunk.Length) % Capacity;
    }

    /// <summary>The kept bytes in order, copied into <paramref name="destination"/> (at least the ring's size).</summary>
    public readonly ReadOnlySpan<byte> CopyTo(Span<byte> destination)
    {
        if (_ring is null)
        {
            return [];
        }
        if (!_full)
        {
            _ring.AsSpan(0, _end).CopyTo(destination);
            return destination[.._end];
        }
        _ring.AsSpan(_end, Capacity - _end).CopyTo(destination);
        _ring.AsSpan(0, _end).CopyTo(destination[(Capacity - _end)..]);
        return destination[..Capacity];
    }

    /// <summary>Reads the usage of the answer whose tail this is.</summary>
    public readonly TokenCounts? ReadUsage()
    {
        Span<byte> ordered = stackalloc byte[Capacity];
        return TokenUsageReader.TryRead(CopyTo(ordered), out var tokens) ? tokens : null;
    }

    public void Dispose()
    {
        if (_ring is not null)
        {
            ArrayPool<byte>.Shared.Return(_ring);
            _ring = null;
        }
    }
}
