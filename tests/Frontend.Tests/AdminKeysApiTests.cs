using System.Net;
using System.Text.Json.Nodes;

namespace GeminiParty.Frontend.Tests;

/// <summary>The admin key routes, and the rotation rule a key file sets up, through one gateway.</summary>
public sealed class AdminKeysApiTests(AdminFrontendFixture gateway) : IClassFixture<AdminFrontendFixture>
{
    private const string Prompt = """{"contents":[{"parts":[{"text":"hi"}]}]}""";

    [Fact]
    public async Task Admin_routes_refuse_a_missing_token_with_401_and_a_client_token_with_403()
    {
        using var none = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, "/hf/admin/keys", token: null), TestContext.Current.CancellationToken);
        using var client = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/hf/admin/keys/0/disable", token: FrontendFixture.Token), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, client.StatusCode);
        Assert.Equal(403, (int)JsonNode.Parse(await client.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!["error"]!["code"]!);
    }

    [Fact]
    public async Task The_key_list_is_masked_with_index_fingerprint_state_and_attributes()
    {
        using var response = await gateway.Client.SendAsync(Admin(HttpMethod.Get, "/hf/admin/keys"), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.All(FrontendFixture.Keys, key => Assert.DoesNotContain(key, text));
        var keys = JsonNode.Parse(text)!["keys"]!.AsArray();
        Assert.Equal(3, keys.Count);
        Assert.Equal(UpstreamKeyList.Fingerprint(FrontendFixture.Keys[2]), (string)keys[2]!["fingerprint"]!);
        Assert.Equal("team-b", (string)keys[2]!["attributes"]!["project"]!);
        Assert.Equal("paid", (string)keys[2]!["attributes"]!["tier"]!);
        Assert.Equal(2, (int)keys[2]!["attributes"]!["weight"]!);
        Assert.StartsWith("AIza...", (string)keys[0]!["key"]!);
    }

    [Fact]
    public async Task Disable_keeps_a_key_off_every_request_until_enable_and_each_action_is_logged()
    {
        var fingerprint = UpstreamKeyList.Fingerprint(FrontendFixture.Keys[1]);
        using (var disabled = await gateway.Client.SendAsync(Admin(HttpMethod.Post, $"/hf/admin/keys/{fingerprint}/disable"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }
        var model = FrontendFixture.NewModel();
        for (var i = 0; i < 6; i++)
        {
            using var answer = await gateway.Client.SendAsync(
                gateway.Request(HttpMethod.Post, $"/hf/v1beta/models/{model}:generateContent", Prompt), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        Assert.DoesNotContain(1, gateway.KeysSeenFor(model));
        Assert.Contains(gateway.Logs.Lines, line => line.Contains("Admin action by admin: disable on key #1 (" + fingerprint + ")"));

        using (var enabled = await gateway.Client.SendAsync(Admin(HttpMethod.Post, "/hf/admin/keys/1/enable"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        }
        var after = FrontendFixture.NewModel();
        for (var i = 0; i < 6; i++)
        {
            using var answer = await gateway.Client.SendAsync(
                gateway.Request(HttpMethod.Post, $"/hf/v1beta/models/{after}:generateContent", Prompt), TestContext.Current.CancellationToken);
        }
        Assert.Contains(1, gateway.KeysSeenFor(after));
    }

    [Fact]
    public async Task Free_keys_serve_by_weight_and_the_paid_key_only_when_no_free_key_can()
    {
        var model = FrontendFixture.NewModel();
        for (var i = 0; i < 30; i++)
        {
            using var answer = await gateway.Client.SendAsync(
                gateway.Request(HttpMethod.Post, $"/hf/v1beta/models/{model}:generateContent", Prompt), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        var counts = gateway.KeysSeenFor(model).CountBy(key => key).ToDictionary();
        // one frontend, no failures: the pool's rounds exactly (key 0 once, key 1 twice per round of 3)
        Assert.Equal(10, counts.GetValueOrDefault(0));
        Assert.Equal(20, counts.GetValueOrDefault(1));
        Assert.Equal(0, counts.GetValueOrDefault(2));

        // both free keys disabled: the paid key serves
        var overflow = FrontendFixture.NewModel();
        await gateway.Client.SendAsync(Admin(HttpMethod.Post, "/hf/admin/keys/0/disable"), TestContext.Current.CancellationToken);
        await gateway.Client.SendAsync(Admin(HttpMethod.Post, "/hf/admin/keys/1/disable"), TestContext.Current.CancellationToken);
        try
        {
            using var answer = await gateway.Client.SendAsync(
                gateway.Request(HttpMethod.Post, $"/hf/v1beta/models/{overflow}:generateContent", Prompt), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal([2], gateway.KeysSeenFor(overflow));
        }
        finally
        {
            await gateway.Client.SendAsync(Admin(HttpMethod.Post, "/hf/admin/keys/0/enable"), TestContext.Current.CancellationToken);
            await gateway.Client.SendAsync(Admin(HttpMethod.Post, "/hf/admin/keys/1/enable"), TestContext.Current.CancellationToken);
        }
    }

    [Theory]
    [InlineData("/usage")]
    [InlineData("/hf/usage")]
    [InlineData("/rotation-status")]
    [InlineData("/hf/rotation-status")]
    public async Task The_status_pages_data_answers_at_the_root_and_under_API_PREFIX(string path)
    {
        // the status page asks for /usage and /rotation-status relative to /status, that is at the root
        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, path, token: FrontendFixture.Token), TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task An_unknown_key_or_action_is_a_404()
    {
        using var key = await gateway.Client.SendAsync(Admin(HttpMethod.Post, "/hf/admin/keys/99/disable"), TestContext.Current.CancellationToken);
        using var action = await gateway.Client.SendAsync(Admin(HttpMethod.Post, "/hf/admin/keys/0/explode"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, key.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, action.StatusCode);
    }

    private HttpRequestMessage Admin(HttpMethod method, string path) => gateway.Request(method, path, token: AdminFrontendFixture.AdminToken);
}
