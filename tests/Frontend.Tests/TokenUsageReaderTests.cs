using System.Text;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Tests;

public sealed class TokenUsageReaderTests
{
    [Fact]
    public void Reads_native_usage_metadata_with_details_and_trailing_fields()
    {
        var body = """{"candidates":[{"content":{"parts":[{"text":"hi"}]}}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":30,"totalTokenCount":57,"promptTokensDetails":[{"modality":"TEXT","tokenCount":12}],"thoughtsTokenCount":15},"modelVersion":"m","responseId":"r"}""";
        Assert.Equal(new TokenCounts(12, 30, 57), Read(body));
    }

    [Fact]
    public void Reads_an_interactions_usage_and_in_its_stream_the_completed_events()
    {
        var unary = """{"id":"v1_a","status":"completed","steps":[{"type":"model_output","content":[{"type":"text","text":"a \"usage\": {} b"}]}],"usage":{"total_input_tokens":7,"total_output_tokens":20,"total_thought_tokens":3,"total_tokens":30}}""";
        Assert.Equal(new TokenCounts(7, 20, 30), Read(unary));

        // a step's own usage comes first; the completed interaction's is the whole call's
        var stream = "data: {\"event_type\":\"step.stop\",\"index\":0,\"usage\":{\"total_input_tokens\":7,\"total_output_tokens\":4,\"total_tokens\":11}}\n\n" +
                     "data: {\"event_type\":\"interaction.completed\",\"interaction\":{\"id\":\"v1_a\",\"status\":\"completed\",\"usage\":{\"total_input_tokens\":7,\"total_output_tokens\":9,\"total_tokens\":16}}}\n\n";
        Assert.Equal(new TokenCounts(7, 9, 16), Read(stream));
    }

    [Fact]
    public void Takes_the_last_event_of_a_stream()
    {
        var body = "data: {\"usageMetadata\":{\"promptTokenCount\":5,\"totalTokenCount\":5}}\r\n\r\n" +
                   "data: {\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":9,\"totalTokenCount\":14}}\r\n\r\n";
        Assert.Equal(new TokenCounts(5, 9, 14), Read(body));
    }

    [Fact]
    public void Reads_openai_usage_before_done_and_skips_null_usage()
    {
        var body = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":null}\n\n" +
                   "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\n\n" +
                   "data: [DONE]\n\n";
        Assert.Equal(new TokenCounts(7, 3, 10), Read(body));
    }

    [Fact]
    public void Ignores_the_word_inside_generated_text_and_answers_without_usage()
    {
        Assert.Null(Read("""{"candidates":[{"content":{"parts":[{"text":"the \"usage\": {\"prompt_tokens\": 99} field"}]}}]}"""));
        Assert.Null(Read("""{"embedding":{"values":[0.1,0.2]}}"""));
        Assert.Null(Read("""{"usageMetadata":{"promptTokenCount":12,"candidatesTok"""));
    }

    [Fact]
    public void A_short_answer_is_kept_whole()
    {
        var tail = new ResponseTail();
        tail.Append("""{"usage":{"prompt_tokens":1,"""u8);
        tail.Append("\"completion_tokens\":2}}"u8);
        Assert.Equal(new TokenCounts(1, 2, 3), tail.ReadUsage());
        tail.Dispose();
    }

    [Fact]
    public void The_tail_keeps_the_last_bytes_across_chunks_of_any_size()
    {
        var usage = ""","usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"totalTokenCount":7}}""";
        var body = Encoding.UTF8.GetBytes("{\"candidates\":[{\"text\":\"" + new string('x', 50_000) + "\"}]" + usage);
        foreach (var chunkSize in new[] { 1, 7, 100, 4096, 5000, 16 * 1024 })
        {
            var tail = new ResponseTail();
            try
            {
                for (var at = 0; at < body.Length; at += chunkSize)
                {
                    tail.Append(body.AsSpan(at, Math.Min(chunkSize, body.Length - at)));
                }
                var ordered = new byte[TokenUsageReader.TailBytes];
                Assert.Equal(body.AsSpan(body.Length - TokenUsageReader.TailBytes).ToArray(), tail.CopyTo(ordered).ToArray());
                Assert.Equal(new TokenCounts(3, 4, 7), tail.ReadUsage());
            }
            finally
            {
                tail.Dispose();
            }
        }
    }

    private static TokenCounts? Read(string body) =>
        TokenUsageReader.TryRead(Encoding.UTF8.GetBytes(body), out var tokens) ? tokens : null;
}
