using System.Text.Json;
using GeminiParty.FakeGemini;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// Chains of fallback models (one per test, so cooldowns do not cross tests), and one attempt per request: a fallback
/// that spent an attempt would leave none for the next model.
/// </summary>
public sealed class ModelFallbackFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["MODEL_FALLBACKS"] = "fb-native-a>fb-native-b, fb-openai-a>fb-openai-b, fb-interaction-a>fb-interaction-b, fb-optout-a>fb-optout-b, fb-long-a>fb-long-b>fb-long-c, fb-spent-a>fb-spent-b>fb-spent-c>fb-spent-d",
        ["DEFAULT_MAX_RETRIES"] = "1",
    };
}

/// <summary>MODEL_FALLBACKS: a model whose keys all cool past the request's wait is served by the next of its chain.</summary>
public sealed class ModelFallbackTests(ModelFallbackFrontendFixture gateway) : IClassFixture<ModelFallbackFrontendFixture>, IDisposable
{
    public void Dispose() => gateway.Upstream.ClearFaults();

    [Fact]
    public async Task A_native_call_for_a_cooling_model_is_served_by_the_next_model_and_says_so()
    {
        await AllKeysCoolingAsync("fb-native-a");

        using var response = await gateway.PostJsonAsync("/v1beta/models/fb-native-a:generateContent", FrontendAssertions.Prompt);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("fb-native-b", response.Headers.GetValues(ModelFallbacks.ServedModelHeader).Single());
        var sent = Assert.Single(gateway.Upstream.Requests, r => r.Model == "fb-native-b");
        Assert.Contains("/models/fb-native-b:generateContent", sent.Path);
        Assert.Equal(FrontendAssertions.Prompt, System.Text.Encoding.UTF8.GetString(sent.Body)); // the body went as it came
    }

    [Fact]
    public async Task A_new_interaction_for_a_cooling_model_is_made_with_the_next_model_and_its_next_turn_stays_on_that_key()
    {
        await AllKeysCoolingAsync("fb-interaction-a");

        using var response = await gateway.PostJsonAsync("/v1beta/interactions", """{"model":"fb-interaction-a","input":"hi","store":true}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("fb-interaction-b", response.Headers.GetValues(ModelFallbacks.ServedModelHeader).Single());
        var made = Assert.Single(gateway.Upstream.Requests, r => r.Model == "fb-interaction-b");
        var sent = JsonDocument.Parse(made.Body).RootElement;
        Assert.Equal("fb-interaction-b", sent.GetProperty("model").GetString());
        Assert.True(sent.GetProperty("store").GetBoolean()); // the rest of the body is the client's

        // the next turn names the previous interaction: it goes to the key that made it, for the model it asks
        var id = (await response.ReadJsonAsync()).GetProperty("id").GetString();
        using var next = await gateway.PostJsonAsync("/v1beta/interactions", $$"""{"model":"fb-interaction-b","input":"go on","previous_interaction_id":"{{id}}"}""");
        Assert.Equal(200, (int)next.StatusCode);
        Assert.All(gateway.Upstream.Requests.Where(r => r.Model == "fb-interaction-b"), r => Assert.Equal(made.ApiKey, r.ApiKey));
    }

    [Fact]
    public async Task An_OpenAI_call_goes_with_the_next_model_in_its_body_and_a_chain_goes_on_past_a_cooling_fallback()
    {
        await AllKeysCoolingAsync("fb-openai-a");
        var body = """{"model":"fb-openai-a","messages":[{"role":"user","content":"hi"}],"temperature":0.5}""";

        using var response = await gateway.PostJsonAsync("/v1beta/openai/chat/completions", body);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("fb-openai-b", response.Headers.GetValues(ModelFallbacks.ServedModelHeader).Single());
        var sent = JsonDocument.Parse(Assert.Single(gateway.Upstream.Requests, r => r.Model == "fb-openai-b").Body).RootElement;
        Assert.Equal("fb-openai-b", sent.GetProperty("model").GetString());
        Assert.Equal(0.5, sent.GetProperty("temperature").GetDouble()); // the rest of the body is the client's
        Assert.Equal("fb-openai-b", (await response.ReadJsonAsync()).GetProperty("model").GetString()); // upstream's own field

        // two models down the chain, still no attempt spent on the way
        await AllKeysCoolingAsync("fb-long-a");
        await AllKeysCoolingAsync("fb-long-b");
        using var longer = await gateway.PostJsonAsync("/v1beta/models/fb-long-a:generateContent", FrontendAssertions.Prompt);
        Assert.Equal(200, (int)longer.StatusCode);
        Assert.Equal("fb-long-c", longer.Headers.GetValues(ModelFallbacks.ServedModelHeader).Single());
    }

    /// <summary>
    /// No key was known to cool, so the request spent its attempt on a rate limit: that finds the model as dry as the
    /// pool saying so up front, and the chain serves it. Every key answers one 429, so each model of the chain meets at
    /// most one; with 3 keys the fourth model at the latest is served.
    /// </summary>
    [Fact]
    public async Task A_request_whose_attempts_all_meet_rate_limits_is_served_by_the_next_model()
    {
        foreach (var key in FrontendFixture.Keys)
        {
            gateway.Upstream.SetFault(key, FakeFault.RateLimitPerMinute(60), times: 1);
        }

        using var response = await gateway.PostJsonAsync("/v1beta/models/fb-spent-a:generateContent", FrontendAssertions.Prompt);

        Assert.Equal(200, (int)response.StatusCode);
        var served = response.Headers.GetValues(ModelFallbacks.ServedModelHeader).Single();
        Assert.NotEqual("fb-spent-a", served);
        Assert.Single(gateway.Upstream.Requests, r => r.Model == "fb-spent-a"); // its one attempt, as configured
        Assert.Contains(gateway.Upstream.Requests, r => r.Model == served);
    }

    [Fact]
    public async Task A_client_that_opts_out_gets_the_429_of_its_own_model_and_a_model_that_serves_is_not_moved()
    {
        using (var served = await gateway.PostJsonAsync("/v1beta/models/fb-optout-a:generateContent", FrontendAssertions.Prompt))
        {
            Assert.Equal(200, (int)served.StatusCode);
            Assert.Equal("fb-optout-a", served.Headers.GetValues(ModelFallbacks.ServedModelHeader).Single());
        }
        await AllKeysCoolingAsync("fb-optout-a");

        using var request = gateway.Request(HttpMethod.Post, "/v1beta/models/fb-optout-a:generateContent", FrontendAssertions.Prompt);
        request.Headers.Add(ModelFallbacks.OptOutHeader, "off");
        using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(429, (int)response.StatusCode);
        Assert.DoesNotContain(gateway.Upstream.Requests, r => r.Model == "fb-optout-b");
    }

    /// <summary>Each key answers <paramref name="model"/> one 429 (a minute's delay), met by one request each: every key cools for it.</summary>
    private async Task AllKeysCoolingAsync(string model)
    {
        foreach (var key in FrontendFixture.Keys)
        {
            gateway.Upstream.SetFault(key, FakeFault.RateLimitPerMinute(60), times: 1);
        }
        for (var i = 0; i < FrontendFixture.Keys.Length; i++)
        {
            using var request = gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
            request.Headers.Add(ModelFallbacks.OptOutHeader, "off");
            using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(429, (int)response.StatusCode);
        }
        gateway.Upstream.ClearFaults();
    }
}
