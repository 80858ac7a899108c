using System.Text.Json;
using System.Text.Json.Nodes;

namespace GeminiParty.Frontend.Tests;

public sealed class SafetySettingsFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["HARM_CATEGORY_HARASSMENT"] = "BLOCK_NONE",
        ["HARM_CATEGORY_DANGEROUS_CONTENT"] = "BLOCK_ONLY_HIGH",
    };
}

public sealed class SafetySettingsTests(SafetySettingsFrontendFixture gateway) : IClassFixture<SafetySettingsFrontendFixture>
{
    [Fact]
    public async Task Configured_categories_are_added_and_the_requests_own_setting_wins()
    {
        var model = FrontendFixture.NewModel();
        var body = """{"contents":[{"parts":[{"text":"hi"}]}],"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_LOW_AND_ABOVE"}],"toolConfig":{"x":1}}""";

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", body);

        Assert.Equal(200, (int)response.StatusCode);
        var sent = JsonNode.Parse(gateway.Upstream.Requests.Single(r => r.Model == model).Body)!;
        var settings = sent["safetySettings"]!.AsArray().ToDictionary(s => (string)s!["category"]!, s => (string)s!["threshold"]!);
        Assert.Equal("BLOCK_LOW_AND_ABOVE", settings["HARM_CATEGORY_HARASSMENT"]);
        Assert.Equal("BLOCK_ONLY_HIGH", settings["HARM_CATEGORY_DANGEROUS_CONTENT"]);
        Assert.Equal(2, settings.Count);
        Assert.Equal(1, (int)sent["toolConfig"]!["x"]!);
    }

    [Fact]
    public async Task An_interaction_gets_the_configured_categories_in_its_own_spelling_and_its_own_setting_wins()
    {
        var model = FrontendFixture.NewModel();
        var body = $$$"""{"model":"{{{model}}}","input":"hi","safety_settings":[{"type":"harassment","threshold":"block_low_and_above"}],"generation_config":{"temperature":0.2}}""";

        using var response = await gateway.PostJsonAsync("/v1beta/interactions", body);

        Assert.Equal(200, (int)response.StatusCode);
        var sent = JsonNode.Parse(gateway.Upstream.Requests.Single(r => r.Model == model).Body)!;
        var settings = sent["safety_settings"]!.AsArray().ToDictionary(s => (string)s!["type"]!, s => (string)s!["threshold"]!);
        Assert.Equal("block_low_and_above", settings["harassment"]);
        Assert.Equal("block_only_high", settings["dangerous_content"]);
        Assert.Equal(2, settings.Count);
        Assert.Null(sent["safetySettings"]);
        Assert.Equal(0.2, (double)sent["generation_config"]!["temperature"]!);
    }

    [Fact]
    public async Task Requests_without_safety_settings_get_all_configured_ones_and_embeddings_get_none()
    {
        var model = FrontendFixture.NewModel();
        using var generate = await gateway.PostJsonAsync($"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt);
        Assert.Equal(200, (int)generate.StatusCode);
        var sent = JsonNode.Parse(gateway.Upstream.Requests.Single(r => r.Model == model).Body)!;
        Assert.Equal(2, sent["safetySettings"]!.AsArray().Count);

        var embedModel = FrontendFixture.NewModel();
        var embedBody = """{"content":{"parts":[{"text":"x"}]}}""";
        using var embed = await gateway.PostJsonAsync($"/v1beta/models/{embedModel}:embedContent", embedBody);
        Assert.Equal(embedBody, System.Text.Encoding.UTF8.GetString(gateway.Upstream.Requests.Single(r => r.Model == embedModel).Body));
    }

    [Fact]
    public async Task A_gzip_body_is_decoded_to_merge_into_and_goes_upstream_decoded_without_its_encoding()
    {
        var model = FrontendFixture.NewModel();
        using var request = gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent");
        request.Content = new ByteArrayContent(ProxyHeadersTests.Gzip(FrontendAssertions.Prompt));
        request.Content.Headers.ContentType = new("application/json");
        request.Content.Headers.ContentEncoding.Add("gzip");

        using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(200, (int)response.StatusCode);
        var recorded = gateway.Upstream.Requests.Single(r => r.Model == model);
        Assert.False(recorded.Headers.ContainsKey("Content-Encoding"));
        Assert.Equal(2, JsonNode.Parse(recorded.Body)!["safetySettings"]!.AsArray().Count);
    }

    [Fact]
    public async Task Malformed_JSON_that_must_be_read_is_a_400_and_nothing_goes_upstream()
    {
        var model = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", """{"contents": [ """);
        var error = await response.AssertGoogleErrorAsync(400);
        Assert.Contains("JSON", error.GetProperty("message").GetString());
        Assert.DoesNotContain(gateway.Upstream.Requests, r => r.Model == model);
    }
}

public sealed class PrefixedFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string> { ["API_PREFIX"] = "hf/" };
}

public sealed class ApiPrefixTests(PrefixedFrontendFixture gateway) : IClassFixture<PrefixedFrontendFixture>
{
    [Fact]
    public async Task Api_routes_live_under_the_prefix_and_status_and_health_stay_at_the_root()
    {
        var model = FrontendFixture.NewModel();
        using var prefixed = await gateway.PostJsonAsync($"/hf/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        Assert.Equal(200, (int)prefixed.StatusCode);
        using var openAi = await gateway.GetAsync("/hf/v1/models");
        Assert.Equal(200, (int)openAi.StatusCode);

        using var bare = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        Assert.Equal(404, (int)bare.StatusCode);
        using var health = await gateway.GetAsync("/healthz", token: null);
        Assert.Equal(200, (int)health.StatusCode);
        using var status = await gateway.GetAsync("/rotation-status");
        Assert.Equal(200, (int)status.StatusCode);
        Assert.Equal(JsonValueKind.Object, (await status.ReadJsonAsync()).ValueKind);
        using var prefixedStatus = await gateway.GetAsync("/hf/rotation-status"); // as the original serves it
        Assert.Equal(200, (int)prefixedStatus.StatusCode);
    }
}
