using System.Text;
using System.Text.Json;

namespace GeminiParty.Frontend.Tests;

[Collection(FrontendCollection.Name)]
public sealed class NativeRoutesTests(FrontendFixture gateway)
{
    [Fact]
    public async Task Generate_content_answers_with_upstreams_body_and_spreads_over_the_keys()
    {
        var model = FrontendFixture.NewModel();
        for (var i = 0; i < 6; i++)
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("application/json; charset=UTF-8", response.Content.Headers.ContentType?.ToString()); // upstream's, as sent
            var json = await response.ReadJsonAsync();
            Assert.Equal("model", json.GetProperty("candidates")[0].GetProperty("content").GetProperty("role").GetString());
            Assert.True(json.GetProperty("usageMetadata").GetProperty("totalTokenCount").GetInt32() > 0);
        }
        Assert.Equal([0, 1, 2, 0, 1, 2], gateway.KeysSeenFor(model));
    }

    [Fact]
    public async Task The_models_prefix_in_the_path_means_the_same_model()
    {
        var model = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1beta/models/models/{model}:generateContent", FrontendAssertions.Prompt);
        Assert.Equal(200, (int)response.StatusCode);
        var recorded = gateway.Upstream.Requests.Single(r => r.Model == model);
        Assert.Equal($"/v1beta/models/{model}:generateContent", recorded.Path);
    }

    [Theory]
    [InlineData("embedContent", """{"content":{"parts":[{"text":"embed me"}]}}""", "embedding")]
    [InlineData("batchEmbedContents", """{"requests":[{"model":"models/x","content":{"parts":[{"text":"a"}]}},{"model":"models/x","content":{"parts":[{"text":"b"}]}}]}""", "embeddings")]
    [InlineData("countTokens", """{"contents":[{"parts":[{"text":"count these tokens"}]}]}""", "totalTokens")]
    public async Task Embedding_and_token_routes_are_forwarded(string action, string body, string expectedField)
    {
        var model = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:{action}", body);
        Assert.Equal(200, (int)response.StatusCode);
        var json = await response.ReadJsonAsync();
        Assert.True(json.TryGetProperty(expectedField, out _), $"{action} answer lacks '{expectedField}': {json}");
        Assert.Equal($"/v1beta/models/{model}:{action}", gateway.Upstream.Requests.Single(r => r.Model == model).Path);
    }

    [Fact]
    public async Task Model_list_passes_paging_through_and_model_get_names_the_model()
    {
        using var page = await gateway.GetAsync("/v1beta/models?pageSize=2");
        Assert.Equal(200, (int)page.StatusCode);
        var json = await page.ReadJsonAsync();
        Assert.Equal(2, json.GetProperty("models").GetArrayLength());
        var token = json.GetProperty("nextPageToken").GetString();
        Assert.False(string.IsNullOrEmpty(token));

        using var next = await gateway.GetAsync($"/v1beta/models?pageSize=2&pageToken={Uri.EscapeDataString(token!)}");
        var nextJson = await next.ReadJsonAsync();
        Assert.NotEqual(json.GetProperty("models")[0].GetProperty("name").GetString(), nextJson.GetProperty("models")[0].GetProperty("name").GetString());

        using var one = await gateway.GetAsync("/v1beta/models/gemini-2.0-flash");
        Assert.Equal(200, (int)one.StatusCode);
        Assert.Equal("models/gemini-2.0-flash", (await one.ReadJsonAsync()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task The_body_reaches_upstream_byte_for_byte_with_unknown_fields()
    {
        var model = FrontendFixture.NewModel();
        // odd spacing, key order and fields the gateway has never heard of must all survive
        var body = """{ "contents":[{"role":"user","parts":[{"text":"héllo \u2603"}]}],  "toolConfig":{"functionCallingConfig":{"mode":"ANY"}},"labels":{"team":"abc"},"generationConfig":{"thinkingConfig":{"thinkingBudget":1024},"temperature":0.2},"someFieldFromTheFuture":{"x":[1,2,3]} }""";
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", body);
        Assert.Equal(200, (int)response.StatusCode);
        var recorded = gateway.Upstream.Requests.Single(r => r.Model == model);
        Assert.Equal(Encoding.UTF8.GetBytes(body), recorded.Body);
        Assert.DoesNotContain("traceparent", recorded.Headers.Keys, StringComparer.OrdinalIgnoreCase); // no tracing ids leak upstream
    }

    [Theory]
    [InlineData("bearer")]
    [InlineData("x-goog-api-key")]
    [InlineData("query")]
    public async Task A_client_token_is_accepted_three_ways_and_never_forwarded(string how)
    {
        var model = FrontendFixture.NewModel();
        var path = $"/v1beta/models/{model}:generateContent?alt=json";
        using var request = gateway.Request(HttpMethod.Post, how == "query" ? path + "&key=" + FrontendFixture.SecondToken : path, FrontendAssertions.Prompt, token: null);
        if (how == "bearer")
        {
            request.Headers.Authorization = new("Bearer", FrontendFixture.SecondToken);
        }
        else if (how == "x-goog-api-key")
        {
            request.Headers.Add("x-goog-api-key", FrontendFixture.SecondToken);
        }
        using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(200, (int)response.StatusCode);
        var recorded = gateway.Upstream.Requests.Single(r => r.Model == model);
        Assert.Contains(recorded.ApiKey, FrontendFixture.Keys);
        Assert.DoesNotContain("key=", recorded.QueryString);
        Assert.Contains("alt=json", recorded.QueryString);
        Assert.DoesNotContain(recorded.Headers, h => h.Value.Contains(FrontendFixture.SecondToken));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    [InlineData("client-token-one-but-longer")]
    public async Task Missing_or_wrong_tokens_get_401_in_Googles_shape_and_nothing_goes_upstream(string? token)
    {
        var model = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, token);
        var error = await response.AssertGoogleErrorAsync(401);
        Assert.Equal("UNAUTHENTICATED", error.GetProperty("status").GetString());
        Assert.DoesNotContain(gateway.Upstream.Requests, r => r.Model == model);
    }

    [Theory]
    [InlineData("gemini..flash")]
    [InlineData("..%2F..%2Fadmin")]
    [InlineData("gemini%0d%0aX-Injected:1")]
    [InlineData("gemini flash")]
    [InlineData("gemini%2Fflash")]
    public async Task Bad_model_names_are_400_and_never_reach_upstream(string model)
    {
        var before = gateway.Upstream.TotalRequests;
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        await response.AssertGoogleErrorAsync(400);
        Assert.Equal(before, gateway.Upstream.TotalRequests);
    }

    [Fact]
    public async Task An_overlong_model_name_is_400()
    {
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{new string('a', 257)}:generateContent", FrontendAssertions.Prompt);
        await response.AssertGoogleErrorAsync(400);
    }

    [Fact]
    public async Task A_path_without_a_method_is_404_in_Googles_shape()
    {
        using var response = await gateway.PostJsonAsync("/v1beta/models/gemini-2.0-flash", "{}");
        await response.AssertGoogleErrorAsync(404);
    }

    [Fact]
    public async Task A_bearer_that_is_not_a_client_token_does_not_hide_a_valid_goog_api_key()
    {
        var model = FrontendFixture.NewModel();
        using var request = gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, token: "sdk-placeholder");
        request.Headers.Add("x-goog-api-key", FrontendFixture.Token);
        using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task Health_needs_no_token_and_ready_says_the_pool_answers()
    {
        using var health = await gateway.GetAsync("/healthz", token: null);
        Assert.Equal(200, (int)health.StatusCode);
        using var ready = await gateway.GetAsync("/readyz", token: null);
        Assert.Equal(200, (int)ready.StatusCode);
        Assert.Equal(FrontendFixture.Keys.Length, (await ready.ReadJsonAsync()).GetProperty("keys").GetInt32());
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task Health_answers_an_uptime_monitors_HEAD_without_a_body(string path)
    {
        using var response = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path), TestContext.Current.CancellationToken);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Rotation_status_needs_a_token()
    {
        using var response = await gateway.GetAsync("/rotation-status", token: null);
        await response.AssertGoogleErrorAsync(401);
    }

    [Fact]
    public async Task Rotation_status_shows_every_key_masked_with_its_use()
    {
        var model = FrontendFixture.NewModel();
        for (var i = 0; i < 4; i++)
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        }

        var status = await gateway.RotationStatusWhenAsync(s => s.GetProperty("data").GetProperty("modelStats").EnumerateArray()
            .Any(m => m.GetProperty("name").GetString() == model && m.GetProperty("totalRequests").GetInt64() == 4));

        Assert.Equal("success", status.GetProperty("status").GetString());
        var data = status.GetProperty("data");
        var summary = data.GetProperty("summary");
        Assert.Equal(3, summary.GetProperty("totalKeys").GetInt32());
        Assert.Equal("memory", summary.GetProperty("storage").GetString());
        Assert.InRange(summary.GetProperty("resetIn").GetInt64(), 0, 60_000);
        var stats = data.GetProperty("modelStats").EnumerateArray().Single(m => m.GetProperty("name").GetString() == model);
        Assert.Equal(4, stats.GetProperty("totalRequests").GetInt64());
        Assert.Equal(2, stats.GetProperty("keyDistribution").GetProperty("0").GetInt64());
        Assert.Equal(1, stats.GetProperty("keyDistribution").GetProperty("1").GetInt64());
        var key0 = status.KeyStatus(0);
        Assert.Equal("AIza...aaaa", key0.GetProperty("key").GetString());
        Assert.Equal(2, key0.GetProperty("usage").GetProperty("byModel").GetProperty(model).GetInt64());
        Assert.Contains(key0.GetProperty("status").GetString(), new[] { "active", "cooling" });
    }
}
