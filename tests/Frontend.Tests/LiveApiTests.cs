using System.Net.WebSockets;
using System.Text.Json;
using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// The Live API through the gateway over real WebSockets: authentication before the upgrade, the pool key only in the
/// upstream header, invisible retries of refused keys, close codes both ways, and sessions in /rotation-status.
/// </summary>
[Collection(FrontendCollection.Name)]
public sealed class LiveApiTests(FrontendFixture gateway) : IDisposable
{
    private static readonly string[] Keys = FrontendFixture.Keys;

    public void Dispose() => gateway.Upstream.Live.ClearFaults();

    [Fact]
    public async Task Without_a_client_token_the_upgrade_is_refused_with_401_and_nothing_reaches_upstream()
    {
        var before = gateway.Upstream.Live.Sessions.Count;

        var refused = await Assert.ThrowsAsync<LiveRefusedException>(() => LiveTestClient.ConnectAsync(gateway, token: null));
        var wrong = await Assert.ThrowsAsync<LiveRefusedException>(() => LiveTestClient.ConnectAsync(gateway, token: "not-a-token"));

        Assert.Equal(401, refused.Status);
        Assert.Equal(401, wrong.Status);
        Assert.Equal(before, gateway.Upstream.Live.Sessions.Count);
    }

    [Fact]
    public async Task Plain_requests_and_unknown_methods_get_json_errors()
    {
        using var plain = await gateway.GetAsync(LiveTestClient.DefaultPath);
        await plain.AssertGoogleErrorAsync(426);

        using var unknown = await gateway.GetAsync("/ws/google.ai.generativelanguage.v1beta.GenerativeService.Bidi-Generate");
        await unknown.AssertGoogleErrorAsync(404);
        using var badVersion = await gateway.GetAsync("/ws/google.ai.generativelanguage.beta.GenerativeService.BidiGenerateContent");
        await badVersion.AssertGoogleErrorAsync(404);
    }

    [Fact]
    public async Task A_text_turn_is_relayed_with_frame_types_kept_and_the_pool_key_only_in_the_upstream_header()
    {
        var model = FrontendFixture.NewModel();
        await using var client = await LiveTestClient.StartAsync(gateway, model, WebSocketMessageType.Binary);

        var setupComplete = await client.ReceiveAsync();
        await client.SendTurnAsync("Hello there");
        var turn = await client.ReceiveTurnAsync();

        Assert.Equal("""{"setupComplete":{}}""", setupComplete.Text);
        Assert.Equal(WebSocketMessageType.Binary, setupComplete.Type); // as upstream sent it
        Assert.Contains("Fake live answer to: Hello there", turn[0].Text);
        Assert.Contains("usageMetadata", turn[^1].Text);
        var session = Assert.Single(gateway.Upstream.Live.Sessions, s => s.Model == model);
        Assert.Contains(session.ApiKey, Keys);
        Assert.Equal("/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent", session.Path);
        Assert.Equal("", session.Query);
        Assert.DoesNotContain(FrontendFixture.Token, string.Join("\n", session.Headers.Values));
        Assert.Equal(["binary", "text"], session.ClientMessageTypes);
    }

    [Fact]
    public async Task The_double_slash_path_of_the_google_sdk_is_served()
    {
        var model = FrontendFixture.NewModel();
        await using var client = await LiveTestClient.ConnectAsync(gateway, path: "/" + LiveTestClient.DefaultPath);
        await client.SendAsync("""{"setup":{"model":"models/""" + model + "\"}}");

        Assert.Equal("""{"setupComplete":{}}""", (await client.ReceiveAsync()).Text);
    }

    [Fact]
    public async Task A_first_message_that_is_not_a_setup_closes_the_session_with_1007_before_any_key_is_used()
    {
        var before = gateway.Upstream.Live.Sessions.Count;
        await using var client = await LiveTestClient.ConnectAsync(gateway);
        await client.SendAsync("""{"clientContent":{"turns":[]}}""");
        var close = await client.ReceiveAsync();

        await using var badModel = await LiveTestClient.ConnectAsync(gateway);
        await badModel.SendAsync("""{"setup":{"model":"models/../secrets"}}""");
        var badClose = await badModel.ReceiveAsync();

        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, close.CloseStatus);
        Assert.Contains("setup", close.CloseDescription);
        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, badClose.CloseStatus);
        Assert.Contains("model", badClose.CloseDescription);
        Assert.Equal(before, gateway.Upstream.Live.Sessions.Count);
    }

    [Fact]
    public async Task A_key_refused_on_the_handshake_with_429_cools_for_the_model_and_the_next_key_serves_invisibly()
    {
        var model = FrontendFixture.NewModel();
        var before = gateway.Upstream.Live.Sessions.Count;
        gateway.Upstream.Live.SetFault(Keys[0], LiveFaultKind.Handshake429, times: 1);

        await using var client = await LiveTestClient.StartAsync(gateway, model);
        var first = await client.ReceiveAsync();

        Assert.Equal("""{"setupComplete":{}}""", first.Text); // the client saw nothing of the refusal
        var attempts = gateway.Upstream.Live.Sessions.Skip(before).ToArray();
        Assert.Equal([(Keys[0], 429), (Keys[1], 101)], attempts.Select(s => (s.ApiKey!, s.HandshakeStatus)));
        var status = await gateway.RotationStatusWhenAsync(s => CooldownModels(s.KeyStatus(0)).Contains(model));
        Assert.Contains(model, CooldownModels(status.KeyStatus(0)));
        Assert.Equal("cooling", status.KeyStatus(0).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_key_whose_session_upstream_closes_at_once_with_1011_quota_cools_and_the_next_key_serves()
    {
        var model = FrontendFixture.NewModel();
        var before = gateway.Upstream.Live.Sessions.Count;
        gateway.Upstream.Live.SetFault(Keys[0], LiveFaultKind.Close1011Quota, times: 1);

        await using var client = await LiveTestClient.StartAsync(gateway, model);

        Assert.Equal("""{"setupComplete":{}}""", (await client.ReceiveAsync()).Text);
        var attempts = gateway.Upstream.Live.Sessions.Skip(before).ToArray();
        Assert.Equal([Keys[0], Keys[1]], attempts.Select(s => s.ApiKey!));
        var status = await gateway.RotationStatusWhenAsync(s => CooldownModels(s.KeyStatus(0)).Contains(model));
        var cooldown = status.KeyStatus(0).GetProperty("cooldowns").EnumerateArray().Single(c => c.GetProperty("model").GetString() == model);
        Assert.Contains("1011", cooldown.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Sessions_that_every_key_closes_with_an_internal_error_bench_no_key_however_many_come()
    {
        var model = FrontendFixture.NewModel();
        await using (var known = await LiveTestClient.StartAsync(gateway, model))
        {
            Assert.Equal("""{"setupComplete":{}}""", (await known.ReceiveAsync()).Text); // the model is served: counted by name
        }
        const int sessions = 6; // three attempts each: six failures per key, more than KEY_TRANSIENT_LIMIT's five in a row
        foreach (var key in Keys)
        {
            gateway.Upstream.Live.SetFault(key, LiveFaultKind.Close1011Internal, times: 100); // cleared below
        }
        for (var i = 0; i < sessions; i++)
        {
            await using var client = await LiveTestClient.StartAsync(gateway, model);
            var close = await client.ReceiveAsync();
            Assert.Equal(WebSocketCloseStatus.InternalServerError, close.CloseStatus); // upstream's last close, as it was
            Assert.Contains("Internal error", close.CloseDescription);
        }
        gateway.Upstream.Live.ClearFaults();

        var failed = gateway.Upstream.Live.Sessions.Count(s => s.Model == model) - 1;
        Assert.Equal(sessions * Keys.Length, failed);
        var status = await gateway.RotationStatusWhenAsync(s => Transients(s, model) >= failed);
        Assert.Equal(failed, Transients(status, model));
        for (var key = 0; key < Keys.Length; key++)
        {
            Assert.DoesNotContain(model, CooldownModels(status.KeyStatus(key)));
        }
    }

    [Fact]
    public async Task A_key_that_closes_sessions_with_an_internal_error_five_times_while_others_open_them_is_benched_for_the_model()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.Live.SetFault(Keys[0], LiveFaultKind.Close1011Internal, times: 5);
        for (var i = 0; i < 30 && gateway.Upstream.Live.Sessions.Count(s => s.Model == model && s.ApiKey == Keys[0]) < 5; i++)
        {
            await using var client = await LiveTestClient.StartAsync(gateway, model);
            Assert.Equal("""{"setupComplete":{}}""", (await client.ReceiveAsync()).Text); // another key opened it
        }

        var status = await gateway.RotationStatusWhenAsync(s => CooldownModels(s.KeyStatus(0)).Contains(model));
        Assert.Contains(model, CooldownModels(status.KeyStatus(0)));
    }

    private static long Transients(JsonElement status, string model) =>
        status.GetProperty("data").GetProperty("modelStats").EnumerateArray().Where(m => m.GetProperty("name").GetString() == model)
            .Select(m => m.GetProperty("lifetime").GetProperty("failures").GetProperty("transient").GetInt64()).SingleOrDefault();

    [Fact]
    public async Task A_setup_upstream_rejects_for_itself_reaches_the_client_with_upstreams_close_and_is_not_retried()
    {
        var model = FrontendFixture.NewModel();
        var before = gateway.Upstream.Live.Sessions.Count;
        foreach (var key in Keys)
        {
            gateway.Upstream.Live.SetFault(key, LiveFaultKind.Close1008ModelNotFound, times: 1);
        }

        await using var client = await LiveTestClient.StartAsync(gateway, model);
        var close = await client.ReceiveAsync();

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, close.CloseStatus);
        Assert.Contains("is not found", close.CloseDescription);
        Assert.Single(gateway.Upstream.Live.Sessions.Skip(before));
    }

    [Fact]
    public async Task When_every_key_refuses_the_client_is_closed_with_1013_and_the_reason()
    {
        var model = FrontendFixture.NewModel();
        foreach (var key in Keys)
        {
            gateway.Upstream.Live.SetFault(key, LiveFaultKind.Handshake429, times: 1);
        }

        await using var client = await LiveTestClient.StartAsync(gateway, model);
        var close = await client.ReceiveAsync();

        Assert.Equal((WebSocketCloseStatus)1013, close.CloseStatus);
        Assert.Contains("429", close.CloseDescription);

        // every key now cools for this model: the next session is refused without reaching upstream
        var before = gateway.Upstream.Live.Sessions.Count;
        await using var again = await LiveTestClient.StartAsync(gateway, model);
        var cooling = await again.ReceiveAsync();
        Assert.Equal((WebSocketCloseStatus)1013, cooling.CloseStatus);
        Assert.Contains("cooling", cooling.CloseDescription);
        Assert.Equal(before, gateway.Upstream.Live.Sessions.Count);
    }

    [Fact]
    public async Task The_clients_close_code_and_reason_reach_upstream()
    {
        var model = FrontendFixture.NewModel();
        var client = await LiveTestClient.StartAsync(gateway, model);
        await client.ReceiveAsync();

        await client.Socket.CloseAsync((WebSocketCloseStatus)4000, "client says bye", TestContext.Current.CancellationToken);

        Assert.Equal((WebSocketCloseStatus)4000, client.Socket.CloseStatus); // upstream's answer, passed back
        var session = Assert.Single(gateway.Upstream.Live.Sessions, s => s.Model == model);
        await gateway.Upstream.WaitUntilAsync(_ => session.Ended, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(4000, session.ClientCloseStatus);
        Assert.Equal("client says bye", session.ClientCloseDescription);
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Upstreams_close_code_and_reason_reach_the_client()
    {
        var model = FrontendFixture.NewModel();
        await using var client = await LiveTestClient.StartAsync(gateway, model);
        await client.ReceiveAsync();

        await client.SendTurnAsync("/close 4001 upstream says bye");
        var close = await client.ReceiveAsync();

        Assert.Equal((WebSocketCloseStatus)4001, close.CloseStatus);
        Assert.Equal("upstream says bye", close.CloseDescription);
    }

    [Fact]
    public async Task An_open_session_shows_in_rotation_status_and_metrics_and_is_gone_after_it_closes_with_its_usage_counted()
    {
        var model = FrontendFixture.NewModel();
        var client = await LiveTestClient.StartAsync(gateway, model);
        await client.ReceiveAsync();
        await client.SendTurnAsync("Count my tokens");
        var usage = JsonDocument.Parse((await client.ReceiveTurnAsync())[^1].Text).RootElement.GetProperty("usageMetadata");
        var key = Array.IndexOf(Keys, gateway.Upstream.Live.Sessions.Single(s => s.Model == model).ApiKey);

        var open = await gateway.RotationStatusWhenAsync(s => s.KeyStatus(key).GetProperty("liveSessions").GetInt32() == 1);
        Assert.Equal(1, open.KeyStatus(key).GetProperty("liveSessions").GetInt32());
        Assert.True(open.GetProperty("data").GetProperty("summary").GetProperty("liveSessions").GetInt32() >= 1);
        // the gauges read the pool's status snapshot, which may be a few seconds older than /rotation-status
        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            using var metrics = await gateway.GetAsync("/metrics");
            var text = await metrics.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            return System.Text.RegularExpressions.Regex.IsMatch(text, "gemini_party_live_sessions\\{[^}]*key=\"" + key + "\"[^}]*\\} 1");
        }, "/metrics shows the open session under its key");

        await client.DisposeAsync();

        var closed = await gateway.RotationStatusWhenAsync(s =>
            s.KeyStatus(key).GetProperty("liveSessions").GetInt32() == 0 && ModelTotals(s, model) is { ValueKind: JsonValueKind.Object });
        Assert.Equal(0, closed.KeyStatus(key).GetProperty("liveSessions").GetInt32());
        var totals = ModelTotals(closed, model);
        Assert.Equal(1, totals.GetProperty("requests").GetInt64());
        Assert.Equal(1, totals.GetProperty("successes").GetInt64());
        var tokens = totals.GetProperty("tokens");
        Assert.Equal(usage.GetProperty("promptTokenCount").GetInt64(), tokens.GetProperty("prompt").GetInt64());
        Assert.Equal(usage.GetProperty("responseTokenCount").GetInt64(), tokens.GetProperty("candidates").GetInt64());
        Assert.Equal(usage.GetProperty("totalTokenCount").GetInt64(), tokens.GetProperty("total").GetInt64());
    }

    private static IEnumerable<string?> CooldownModels(JsonElement key) =>
        key.GetProperty("cooldowns").EnumerateArray().Select(c => c.GetProperty("model").GetString());

    private static JsonElement ModelTotals(JsonElement status, string model) =>
        status.GetProperty("data").GetProperty("modelStats").EnumerateArray()
            .FirstOrDefault(m => m.GetProperty("name").GetString() == model) is { ValueKind: JsonValueKind.Object } stats
            ? stats.GetProperty("lifetime")
            : default;
}

/// <summary>Keys that upstream says are invalid never come back, so these tests get a gateway of their own.</summary>
public sealed class LiveInvalidKeyTests(FrontendFixture gateway) : IClassFixture<FrontendFixture>
{
    private static readonly string[] Keys = FrontendFixture.Keys;

    [Fact]
    public async Task Keys_refused_with_403_on_the_handshake_or_closed_with_1008_invalid_key_leave_every_model()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.Live.SetFault(Keys[0], LiveFaultKind.Handshake403, times: 1);
        gateway.Upstream.Live.SetFault(Keys[1], LiveFaultKind.Close1008InvalidKey, times: 1);

        await using (var client = await LiveTestClient.StartAsync(gateway, model))
        {
            Assert.Equal("""{"setupComplete":{}}""", (await client.ReceiveAsync()).Text);
        }
        Assert.Equal([Keys[0], Keys[1], Keys[2]], gateway.Upstream.Live.Sessions.Select(s => s.ApiKey!));

        var status = await gateway.RotationStatusWhenAsync(s => s.KeyStatus(1).GetProperty("status").GetString() == "invalid");
        Assert.Equal("invalid", status.KeyStatus(0).GetProperty("status").GetString());
        Assert.Equal("invalid", status.KeyStatus(1).GetProperty("status").GetString());
        Assert.Contains("API key not valid", status.KeyStatus(1).GetProperty("invalid").GetProperty("reason").GetString());

        // another model, another protocol: both keys are out
        var other = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{other}:generateContent", FrontendAssertions.Prompt);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal([2], gateway.KeysSeenFor(other));
    }
}
