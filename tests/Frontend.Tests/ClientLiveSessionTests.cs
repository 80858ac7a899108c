using System.Net.WebSockets;
using System.Text.Json;
using static GeminiParty.Frontend.Tests.ClientUsageReport;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// Live API sessions of named clients over real WebSockets: each session is one request of its client's limits, holds
/// a concurrency slot while it lasts, is held to the model allowlist, and counts its tokens toward tpd and usage.
/// </summary>
public sealed class ClientLiveSessionTests(ClientsFrontendFixture gateway) : IClassFixture<ClientsFrontendFixture>
{
    private const string SetupComplete = """{"setupComplete":{}}""";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_session_is_one_request_of_rpm_and_past_it_the_upgrade_is_refused_with_429_and_Retry_After()
    {
        const string ivan = "ivan-secret-token"; // rpm=2
        var model = FrontendFixture.NewModel();
        for (var i = 0; i < 2; i++)
        {
            await using var session = await LiveTestClient.StartAsync(gateway, model, token: ivan);
            Assert.Equal(SetupComplete, (await session.ReceiveAsync()).Text);
        }

        var refused = await Assert.ThrowsAsync<LiveRefusedException>(() => LiveTestClient.ConnectAsync(gateway, ivan));
        Assert.Equal(429, refused.Status);
        Assert.Equal("60", HandshakeHeader(refused, "Retry-After"));
        Assert.Equal("0", HandshakeHeader(refused, "x-ratelimit-remaining-requests"));
        // the same refusal without the upgrade shows its body: Google's error shape, naming the limit
        using (var plain = await gateway.GetAsync(LiveTestClient.DefaultPath, ivan))
        {
            var error = await plain.AssertGoogleErrorAsync(429);
            Assert.Equal("RESOURCE_EXHAUSTED", error.GetProperty("status").GetString());
            Assert.Contains("2 requests per minute (rpm)", error.GetProperty("message").GetString());
        }
        Assert.Equal(2, gateway.Upstream.Live.Sessions.Count(s => s.Model == model));
        await ClientsFrontendFixture.EventuallyAsync(async () =>
            Today(await gateway.UsageAsync(ivan), "ivan").GetProperty("refused").GetInt64() == 2, "the refused sessions count as refused");
        Assert.Equal(2, Today(await gateway.UsageAsync(ivan), "ivan").GetProperty("requests").GetInt64());
        await ClientsFrontendFixture.EventuallyAsync(() => Task.FromResult(gateway.Logs.Lines.Any(line => line.Contains($"ivan live {model}"))),
            "the session's log line names ivan");
        await ClientsFrontendFixture.EventuallyAsync(() => Task.FromResult(gateway.Logs.Lines.Any(line => line.Contains("ivan live (unknown)") && line.Contains("-> 429"))),
            "the refused session has its log line too");

        gateway.Clock.Advance(TimeSpan.FromSeconds(60));
        await using var again = await LiveTestClient.StartAsync(gateway, model, token: ivan);
        Assert.Equal(SetupComplete, (await again.ReceiveAsync()).Text);
    }

    [Fact]
    public async Task A_session_holds_a_concurrency_slot_for_its_life_and_frees_it_however_it_ends()
    {
        const string judy = "judy-secret-token"; // concurrency=1
        var model = FrontendFixture.NewModel();
        // both upgrades pass: a session takes its slot with its setup, when its model is known
        await using var first = await LiveTestClient.ConnectAsync(gateway, judy);
        await using var second = await LiveTestClient.ConnectAsync(gateway, judy);
        await first.SendSetupAsync(model);
        Assert.Equal(SetupComplete, (await first.ReceiveAsync()).Text);

        await second.SendSetupAsync(model);
        var close = await second.ReceiveAsync();
        Assert.Equal((WebSocketCloseStatus)1013, close.CloseStatus);
        Assert.Contains("1 requests in flight (concurrency)", close.CloseDescription);
        var third = await Assert.ThrowsAsync<LiveRefusedException>(() => LiveTestClient.ConnectAsync(gateway, judy));
        Assert.Equal(429, third.Status);
        using (var http = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, judy))
        {
            await http.AssertGoogleErrorAsync(429); // the session's slot is the client's, whatever the route
        }
        Assert.Single(gateway.Upstream.Live.Sessions, s => s.Model == model);

        first.Socket.Abort(); // the client breaks off without a close frame
        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            try
            {
                await using var next = await LiveTestClient.StartAsync(gateway, model, token: judy);
                return (await next.ReceiveAsync()).Text == SetupComplete;
            }
            catch (LiveRefusedException)
            {
                return false;
            }
        }, "the broken-off session's slot is free again");
        // and a session closed normally gives its slot back too
        await using (var closed = await LiveTestClient.StartAsync(gateway, model, token: judy))
        {
            Assert.Equal(SetupComplete, (await closed.ReceiveAsync()).Text);
        }
        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, judy);
            return response.IsSuccessStatusCode;
        }, "the closed session's slot is free again");
    }

    [Fact]
    public async Task A_sessions_tokens_count_toward_tpd_and_the_clients_usage_of_its_model()
    {
        const string kim = "kim-secret-token"; // tpd=1
        var model = FrontendFixture.NewModel();
        using (var known = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt))
        {
            Assert.Equal(200, (int)known.StatusCode); // upstream has served the model: usage is kept under its name
        }
        JsonElement usage;
        await using (var session = await LiveTestClient.StartAsync(gateway, model, token: kim))
        {
            Assert.Equal(SetupComplete, (await session.ReceiveAsync()).Text);
            await session.SendTurnAsync("Count my tokens");
            usage = JsonDocument.Parse((await session.ReceiveTurnAsync())[^1].Text).RootElement.GetProperty("usageMetadata").Clone();
        }
        var total = usage.GetProperty("totalTokenCount").GetInt64();
        Assert.True(total > 1, "the fake reports the turn's tokens");

        await ClientsFrontendFixture.EventuallyAsync(async () =>
            Day(await gateway.UsageAsync(kim), "kim", model) is { ValueKind: JsonValueKind.Object } day && day.GetProperty("totalTokens").GetInt64() == total,
            "the session's tokens are counted for kim and the model");
        var counts = Day(await gateway.UsageAsync(kim), "kim", model);
        Assert.Equal(1, counts.GetProperty("requests").GetInt64());
        Assert.Equal(usage.GetProperty("promptTokenCount").GetInt64(), counts.GetProperty("promptTokens").GetInt64());
        Assert.Equal(usage.GetProperty("responseTokenCount").GetInt64(), counts.GetProperty("candidatesTokens").GetInt64());

        var refused = await Assert.ThrowsAsync<LiveRefusedException>(() => LiveTestClient.ConnectAsync(gateway, kim));
        Assert.Equal(429, refused.Status);
        Assert.Equal("0", HandshakeHeader(refused, "x-ratelimit-remaining-tokens"));
        using var plain = await gateway.GetAsync(LiveTestClient.DefaultPath, kim);
        Assert.Contains("tokens per day (tpd", (await plain.AssertGoogleErrorAsync(429)).GetProperty("message").GetString());
        Assert.Equal(1, gateway.Upstream.Live.Sessions.Count(s => s.Model == model));
    }

    [Fact]
    public async Task A_setup_for_a_model_outside_the_allowlist_is_closed_with_1008_and_never_reaches_upstream()
    {
        const string mia = "mia-secret-token"; // models=gemini-live-ok-*
        var denied = FrontendFixture.NewModel();
        await using (var session = await LiveTestClient.StartAsync(gateway, denied, token: mia))
        {
            var close = await session.ReceiveAsync();
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, close.CloseStatus);
            Assert.Contains($"may not use model '{denied}'", close.CloseDescription);
        }
        Assert.DoesNotContain(gateway.Upstream.Live.Sessions, s => s.Model == denied);

        var allowed = "gemini-live-ok-" + Guid.NewGuid().ToString("N")[..8];
        await using (var session = await LiveTestClient.StartAsync(gateway, allowed, token: mia))
        {
            Assert.Equal(SetupComplete, (await session.ReceiveAsync()).Text);
        }
        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            var today = Today(await gateway.UsageAsync(mia), "mia");
            return today.GetProperty("refused").GetInt64() == 1 && today.GetProperty("requests").GetInt64() == 1;
        }, "the refused session counts as refused, the allowed one as a request");
    }

    [Fact]
    public async Task A_session_whose_token_leaves_the_clients_file_is_closed_with_1008_and_other_sessions_go_on()
    {
        const string nick = "nick-secret-token";
        var model = FrontendFixture.NewModel();
        await File.WriteAllTextAsync(gateway.ClientsPath, ClientsFrontendFixture.InitialClients + "\nnick " + nick + "\n", Cancel);
        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, nick);
            return response.IsSuccessStatusCode;
        }, "nick's token works");
        await using var revoked = await LiveTestClient.StartAsync(gateway, model, token: nick);
        Assert.Equal(SetupComplete, (await revoked.ReceiveAsync()).Text);
        await using var other = await LiveTestClient.StartAsync(gateway, model, token: "erin-secret-token");
        Assert.Equal(SetupComplete, (await other.ReceiveAsync()).Text);

        await File.WriteAllTextAsync(gateway.ClientsPath, ClientsFrontendFixture.InitialClients, Cancel);
        var close = await revoked.ReceiveAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, close.CloseStatus);
        Assert.Contains("no longer allows this Live session", close.CloseDescription);
        var upstream = gateway.Upstream.Live.Sessions.Where(s => s.Model == model).ToArray();
        Assert.Equal(2, upstream.Length);
        await gateway.Upstream.WaitUntilAsync(_ => upstream.Count(s => s.Ended) == 1, cancellationToken: Cancel); // upstream's side is closed too

        await other.SendTurnAsync("Still here?");
        Assert.Contains(await other.ReceiveTurnAsync(), message => message.Text.Contains("Fake live answer to: Still here?", StringComparison.Ordinal));
    }

    /// <summary>A header of a refused handshake, found whatever its case.</summary>
    private static string? HandshakeHeader(LiveRefusedException refused, string name) =>
        refused.Headers?.FirstOrDefault(header => string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.Single();
}
