using System.Text.Json;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Tells an answer that carries a reply from Gemini's empty 200 (no candidates and no <c>promptFeedback.blockReason</c>),
/// which a client would read as an empty reply and which another key usually answers properly. Only generation calls
/// are checked: native <c>generateContent</c> and <c>streamGenerateContent</c>, OpenAI <c>chat/completions</c>.
/// </summary>
public sealed class EmptyAnswerCheck
{
    private static readonly EmptyAnswerCheck Native = new("\"candidates\""u8.ToArray(), "candidates");
    private static readonly EmptyAnswerCheck OpenAi = new("\"delta\""u8.ToArray(), "choices");

    private readonly byte[] _streamMarker;
    private readonly string _listName;

    private EmptyAnswerCheck(byte[] streamMarker, string listName)
    {
        _streamMarker = streamMarker;
        _listName = listName;
    }

    /// <summary>The check for <paramref name="call"/>, or null when its answers are not generated replies.</summary>
    public static EmptyAnswerCheck? For(UpstreamCall call)
    {
        var path = call.PathAndQuery.AsSpan();
        var query = path.IndexOf('?');
        if (query >= 0)
        {
            path = path[..query];
        }
        if (call.Surface == ApiSurface.OpenAi)
        {
            return path.EndsWith("chat/completions", StringComparison.Ordinal) ? OpenAi : null;
        }
        return path.EndsWith(":generateContent", StringComparison.Ordinal) || path.EndsWith(":streamGenerateContent", StringComparison.Ordinal)
            ? Native
            : null;
    }

    /// <summary>
    /// Whether a stream's bytes so far hold a reply: an event with a candidate (an OpenAI chunk with a delta), or a block
    /// reason, which is an answer too.
    /// </summary>
    public bool StreamHasReply(ReadOnlySpan<byte> held) =>
        held.IndexOf(_streamMarker) >= 0 || held.IndexOf("\"blockReason\""u8) >= 0;

    /// <summary>Whether a whole answer that is not a stream holds a reply: a non-empty candidate list, or a block reason.</summary>
    public bool AnswerHasReply(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return true; // not the shape this check knows: pass it on as it came
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(_listName))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        return true;
                    }
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.EndArray)
                    {
                        return true;
                    }
                    continue;
                }
                if (reader.ValueTextEquals("promptFeedback"))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject && HasBlockReason(ref reader))
                    {
                        return true;
                    }
                    continue;
                }
                reader.Read();
                reader.Skip();
            }
            return false;
        }
        catch (JsonException)
        {
            return true; // a broken body is not this check's business
        }
    }

    /// <summary>Reads a promptFeedback object to its end; whether it names a block reason.</summary>
    private static bool HasBlockReason(ref Utf8JsonReader reader)
    {
        var found = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            found |= reader.ValueTextEquals("blockReason");
            reader.Read();
            reader.Skip();
        }
        return found;
    }
}
