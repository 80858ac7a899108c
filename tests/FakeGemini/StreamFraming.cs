using System.Text;

namespace GeminiParty.FakeGemini;

/// <summary>How the events of one streaming surface are put on the wire.</summary>
internal sealed record StreamFraming(string ContentType, byte[] BeforeFirst, byte[] BeforeLater, byte[] AfterEach, byte[] End)
{
    /// <summary>Native <c>?alt=sse</c>: Google separates events with CRLF CRLF.</summary>
    public static StreamFraming NativeSse { get; } = new("text/event-stream", "data: "u8.ToArray(), "data: "u8.ToArray(), "\r\n\r\n"u8.ToArray(), []);

    /// <summary>Native without <c>alt=sse</c>: one JSON array, sent an element at a time.</summary>
    public static StreamFraming NativeJsonArray { get; } = new(ResponseWriter.JsonContentType, "["u8.ToArray(), ",\r\n"u8.ToArray(), [], "]"u8.ToArray());

    /// <summary>The Interactions API: <c>data:</c> lines only, no <c>event:</c> lines and no end marker.</summary>
    public static StreamFraming InteractionSse { get; } = new("text/event-stream", "data: "u8.ToArray(), "data: "u8.ToArray(), "\n\n"u8.ToArray(), []);

    public static StreamFraming OpenAiSse { get; } = new("text/event-stream", "data: "u8.ToArray(), "data: "u8.ToArray(), "\n\n"u8.ToArray(), Encoding.UTF8.GetBytes("data: [DONE]\n\n"));

    public byte[] Frame(int index, byte[] json)
    {
        var before = index == 0 ? BeforeFirst : BeforeLater;
        var framed = new byte[before.Length + json.Length + AfterEach.Length];
        before.CopyTo(framed, 0);
        json.CopyTo(framed, before.Length);
        AfterEach.CopyTo(framed, before.Length + json.Length);
        return framed;
    }
}
