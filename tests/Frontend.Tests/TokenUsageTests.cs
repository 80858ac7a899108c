using System.Text.Json;

namespace GeminiParty.Frontend.Tests;

/// <summary>Tokens reported by upstream answers end up per key and model in /rotation-status.</summary>
[Collection(FrontendCollection.Name)]
public sealed class TokenUsageTests(FrontendFixture gateway)
{
    public static TheoryData<string, string, bool> Calls => new()
    {
        { "native", "/v1beta/models/{0}:generateContent", false },
        { "native stream (sse)", "/v1beta/models/{0}:streamGenerateContent?alt=sse", false },
        { "native stream (json array)", "/v1beta/models/{0}:streamGenerateContent", false },
        { "openai", "/v1/chat/completions", true },
        { "openai stream with include_usage", "/v1/chat/completions", true },
    };

    [Theory]
    [MemberData(nameof(Calls))]
    public async Task Tokens_of_each_answer_are_counted_for_its_key_and_model(string kind, string path, bool openAi)
    {
        var model = FrontendFixture.NewModel();
        var stream = kind.Contains("stream");
        var body = openAi
            ? $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},{{(stream ? "\"stream_options\":{\"include_usage\":true}," : "")}}"messages":[{"role":"user","content":"Count the tokens of this prompt"}]}"""
            : FrontendAssertions.Prompt;
        long expectedPrompt = 0, expectedCandidates = 0, expectedTotal = 0;
        for (var i = 0; i < 2; i++)
        {
            using var response = await gateway.PostJsonAsync(string.Format(path, model), body);
            Assert.Equal(200, (int)response.StatusCode);
            var (prompt, candidates, total) = LastUsage(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), openAi);
            expectedPrompt += prompt;
            expectedCandidates += candidates;
            expectedTotal += total;
        }
        Assert.True(expectedTotal > 0, "the fake reports usage");

        var counters = await WaitForCountersAsync(model, c => c.GetProperty("successes").GetInt64() == 2);

        Assert.Equal(expectedPrompt, counters.GetProperty("promptTokens").GetInt64());
        Assert.Equal(expectedCandidates, counters.GetProperty("candidatesTokens").GetInt64());
        Assert.Equal(expectedTotal, counters.GetProperty("totalTokens").GetInt64());
    }

    /// <summary>The model's counters summed over keys, once the batched reports have arrived.</summary>
    private async Task<JsonElement> WaitForCountersAsync(string model, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var status = await gateway.RotationStatusAsync();
            var perKey = status.GetProperty("data").GetProperty("keys").EnumerateArray()
                .Select(key => key.GetProperty("models"))
                .Where(models => models.TryGetProperty(model, out _))
                .Select(models => models.GetProperty(model))
                .ToArray();
            var sum = JsonSerializer.SerializeToElement(new
            {
                successes = perKey.Sum(c => c.GetProperty("successes").GetInt64()),
                promptTokens = perKey.Sum(c => c.GetProperty("promptTokens").GetInt64()),
                candidatesTokens = perKey.Sum(c => c.GetProperty("candidatesTokens").GetInt64()),
                totalTokens = perKey.Sum(c => c.GetProperty("totalTokens").GetInt64()),
            });
            if (done(sum) || DateTime.UtcNow > deadline)
            {
                return sum;
            }
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The usage the client saw in the last place that carries it.</summary>
    private static (long Prompt, long Candidates, long Total) LastUsage(string text, bool openAi)
    {
        var documents = text.TrimStart().StartsWith('[')
            ? JsonDocument.Parse(text).RootElement.EnumerateArray().ToArray()
            : text.TrimStart().StartsWith("data:")
                ? text.Split('\n').Where(line => line.StartsWith("data: {")).Select(line => JsonDocument.Parse(line[6..]).RootElement).ToArray()
                : [JsonDocument.Parse(text).RootElement];
        var usage = documents.Select(d => d.TryGetProperty(openAi ? "usage" : "usageMetadata", out var u) ? u : default)
            .Last(u => u.ValueKind == JsonValueKind.Object);
        return openAi
            ? (usage.GetProperty("prompt_tokens").GetInt64(), usage.GetProperty("completion_tokens").GetInt64(), usage.GetProperty("total_tokens").GetInt64())
            : (usage.GetProperty("promptTokenCount").GetInt64(), usage.GetProperty("candidatesTokenCount").GetInt64(), usage.GetProperty("totalTokenCount").GetInt64());
    }
}
