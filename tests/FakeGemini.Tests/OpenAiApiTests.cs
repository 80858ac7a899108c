using System.Buffers.Binary;
using System.Net;
using System.Text.Json;

namespace GeminiParty.FakeGemini.Tests;

public sealed class OpenAiApiTests
{
    private const string Key = "AIzaOpenAiKey";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Streamed_chat_ends_with_done_and_usage_on_the_last_chunk()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        const string body = """{"model":"gemini-2.0-flash","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""";

        using var response = await http.SendAsync(GeminiCalls.OpenAi(HttpMethod.Post, "/chat/completions", Key, body), HttpCompletionOption.ResponseHeadersRead, Ct);
        var events = new EventReader(await response.Content.ReadAsStreamAsync(Ct), "\n\n");
        var received = new List<string>();
        while (await events.ReadAsync(Ct) is { } next)
        {
            received.Add(next);
        }

        Assert.Equal("data: [DONE]", received[^1]);
        var chunks = received[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.Equal(3, chunks.Count);
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("stop", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.True(chunks[^1].GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0);
        Assert.False(chunks[0].TryGetProperty("usage", out _));
        Assert.Equal("openai", Assert.Single(fake.Requests).Surface);
    }

    [Fact]
    public async Task Chat_completion_has_usage_and_models_are_listed_as_openai_does()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var chat = await http.SendAsync(GeminiCalls.OpenAi(HttpMethod.Post, "/chat/completions", Key, GeminiCalls.ChatBody), Ct);
        using var models = await http.SendAsync(GeminiCalls.OpenAi(HttpMethod.Get, "/models", Key), Ct);
        using var unknown = await http.SendAsync(GeminiCalls.OpenAi(HttpMethod.Get, "/models/unknown-model", Key), Ct);

        var completion = await chat.ReadJsonAsync(Ct);
        Assert.Equal("chat.completion", completion.GetProperty("object").GetString());
        Assert.True(completion.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() > 0);
        var list = await models.ReadJsonAsync(Ct);
        Assert.Equal("list", list.GetProperty("object").GetString());
        var first = list.GetProperty("data")[0];
        Assert.Equal(("models/gemini-2.0-flash", "model", "google"),
            (first.GetProperty("id").GetString(), first.GetProperty("object").GetString(), first.GetProperty("owned_by").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Base64_embeddings_are_little_endian_floats_of_the_same_vector()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        const string floatsBody = """{"model":"text-embedding-004","input":["alpha","beta"]}""";
        const string base64Body = """{"model":"text-embedding-004","input":["alpha","beta"],"encoding_format":"base64"}""";

        using var asFloats = await http.SendAsync(GeminiCalls.OpenAi(HttpMethod.Post, "/embeddings", Key, floatsBody), Ct);
        using var asBase64 = await http.SendAsync(GeminiCalls.OpenAi(HttpMethod.Post, "/embeddings", Key, base64Body), Ct);

        var floats = (await asFloats.ReadJsonAsync(Ct)).GetProperty("data");
        var base64 = (await asBase64.ReadJsonAsync(Ct)).GetProperty("data");
        Assert.Equal(2, floats.GetArrayLength());
        var expected = floats[1].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var bytes = Convert.FromBase64String(base64[1].GetProperty("embedding").GetString()!);
        var decoded = Enumerable.Range(0, bytes.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))).ToArray();
        Assert.Equal(768, decoded.Length);
        Assert.Equal(expected, decoded);
    }

    [Fact]
    public async Task Array_wrapped_error_is_a_one_element_array_of_the_google_error()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        fake.SetFault(Key, FakeFault.ArrayWrappedError(), times: 1);

        using var response = await http.SendAsync(GeminiCalls.OpenAi(HttpMethod.Post, "/chat/completions", Key, GeminiCalls.ChatBody), Ct);
        var body = await response.ReadJsonAsync(Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(JsonValueKind.Array, body.ValueKind);
        Assert.Equal("RESOURCE_EXHAUSTED", Assert.Single(body.EnumerateArray()).GetProperty("error").GetProperty("status").GetString());
    }
}
