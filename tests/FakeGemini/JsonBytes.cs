using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>Builds a UTF-8 JSON body with a writer, the cheapest way to produce the fake's answers.</summary>
internal static class JsonBytes
{
    // Google does not escape quotes or HTML characters, and some tests match the raw text.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Write(Action<Utf8JsonWriter> write, int sizeHint = 512)
    {
        var buffer = new ArrayBufferWriter<byte>(sizeHint);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(json);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> write, int sizeHint = 512)
    {
        var buffer = new ArrayBufferWriter<byte>(sizeHint);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(json, state);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
