using System.Text.RegularExpressions;
using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>Gemini's 200 with no candidate: a transient failure of its key, retried on another while nothing reached the client.</summary>
[Collection(FrontendCollection.Name)]
public sealed class EmptyAnswerTests(FrontendFixture gateway) : IDisposable
{
    public void Dispose() => gateway.Upstream.ClearFaults();

    [Fact]
    public async Task An_empty_native_answer_is_retried_on_another_key_and_counted()
    {
        var model = await KnownModelAsync();
        gateway.Upstream.SetFault(FrontendFixture.Keys[1], FakeFault.EmptyAnswer, times: 1);

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);

        Assert.Equal(200, (int)response.StatusCode);
        var json = await response.ReadJsonAsync();
        Assert.True(json.GetProperty("candidates").GetArrayLength() > 0);
        Assert.Equal([0, 1, 2], gateway.KeysSeenFor(model));
        await AssertCountedAsync(model);
    }

    [Fact]
    public async Task A_stream_that_ends_before_its_first_candidate_is_retried_on_another_key()
    {
        var model = await KnownModelAsync();
        gateway.Upstream.SetFault(FrontendFixture.Keys[1], FakeFault.EmptyAnswer, times: 1);

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt);

        Assert.Equal(200, (int)response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(3, body.Split("data: ").Length - 1); // one clean stream, from the second key only
        Assert.Contains("candidates", body);
        Assert.Equal([0, 1, 2], gateway.KeysSeenFor(model));
        await AssertCountedAsync(model);
    }

    [Fact]
    public async Task Empty_OpenAI_answers_are_retried_streamed_or_not()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(FrontendFixture.Keys[0], FakeFault.EmptyAnswer, times: 1);
        gateway.Upstream.SetFault(FrontendFixture.Keys[2], FakeFault.EmptyAnswer, times: 1);

        using var whole = await gateway.PostJsonAsync("/v1beta/openai/chat/completions",
            $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(200, (int)whole.StatusCode);
        Assert.True((await whole.ReadJsonAsync()).GetProperty("choices").GetArrayLength() > 0);

        using var stream = await gateway.PostJsonAsync("/v1beta/openai/chat/completions",
            $$"""{"model":"{{model}}","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(200, (int)stream.StatusCode);
        Assert.Contains("\"delta\"", await stream.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal([0, 1, 2, 0], gateway.KeysSeenFor(model)); // each answer: the empty one, then another key's
    }

    [Fact]
    public async Task A_blocked_prompt_is_an_answer_not_an_empty_one()
    {
        Assert.True(Check("v1beta/models/m:generateContent").AnswerHasReply("""{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{}}"""u8));
        Assert.False(Check("v1beta/models/m:generateContent").AnswerHasReply("""{"usageMetadata":{"promptTokenCount":1},"modelVersion":"m"}"""u8));
        Assert.False(Check("v1beta/models/m:generateContent").AnswerHasReply("""{"candidates":[],"promptFeedback":{"safetyRatings":[]}}"""u8));
        Assert.True(Check("v1beta/models/m:generateContent").AnswerHasReply("""{"candidates":[{"content":{}}]}"""u8));
        Assert.Null(Forwarding.EmptyAnswerCheck.For(Call("v1beta/models/m:embedContent")));
        await Task.CompletedTask;
    }

    private static Forwarding.UpstreamCall Call(string path) =>
        new(Forwarding.ApiSurface.GeminiNative, HttpMethod.Post, path, "m", ReadOnlyMemory<byte>.Empty, false);

    private static Forwarding.EmptyAnswerCheck Check(string path) => Forwarding.EmptyAnswerCheck.For(Call(path))!;

    /// <summary>A model upstream has served once (key #0), so the pool and the metrics count it under its name.</summary>
    private async Task<string> KnownModelAsync()
    {
        var model = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        Assert.Equal(200, (int)response.StatusCode);
        return model;
    }

    /// <summary>The key's transient failure reaches the pool's status, and the empty answer the metrics.</summary>
    private async Task AssertCountedAsync(string model)
    {
        long transient = 0;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline && transient == 0; await Task.Delay(50, TestContext.Current.CancellationToken))
        {
            var key = (await gateway.RotationStatusAsync()).GetProperty("data").GetProperty("keys")[1].GetProperty("models");
            transient = key.TryGetProperty(model, out var stats) ? stats.GetProperty("transient").GetInt64() : 0;
        }
        Assert.True(transient == 1, (await gateway.RotationStatusAsync()).ToString());
        var counted = false;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); DateTime.UtcNow < deadline && !counted; await Task.Delay(200, TestContext.Current.CancellationToken))
        {
            using var metrics = await gateway.GetAsync("/metrics");
            var text = await metrics.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            counted = Regex.IsMatch(text, $$"""gemini_party_upstream_empty_answers_total\{[^}]*model="{{model}}"[^}]*\} 1""");
        }
        Assert.True(counted, "the empty answer shows in /metrics");
    }
}
