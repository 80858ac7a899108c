using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using GeminiParty.FakeGemini;
using GeminiParty.Frontend.Clients;
using Microsoft.Extensions.DependencyInjection;
using static GeminiParty.Frontend.Tests.ClientUsageReport;

namespace GeminiParty.Frontend.Tests;

/// <summary>Named clients from CLIENTS_FILE: their limits, allowlist, headers, usage and revocation, in embedded mode.</summary>
public sealed class ClientLimitsTests(ClientsFrontendFixture gateway) : IClassFixture<ClientsFrontendFixture>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Over_rpm_the_client_gets_429_with_Retry_After_nothing_goes_upstream_and_the_window_slides_on()
    {
        var model = FrontendFixture.NewModel();
        var statuses = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, "alice-secret-token");
            statuses.Add((int)response.StatusCode);
            Assert.Equal("3", Header(response, "x-ratelimit-limit-requests"));
            Assert.Equal(Math.Max(0, 2 - i).ToString(), Header(response, "x-ratelimit-remaining-requests"));
            if (i >= 3)
            {
                var error = await response.AssertGoogleErrorAsync(429);
                Assert.Equal("RESOURCE_EXHAUSTED", error.GetProperty("status").GetString());
                Assert.Contains("3 requests per minute (rpm)", error.GetProperty("message").GetString());
                Assert.Equal(TimeSpan.FromSeconds(60), response.Headers.RetryAfter?.Delta);
                Assert.Equal("1m0s", Header(response, "x-ratelimit-reset-requests"));
            }
        }
        Assert.Equal([200, 200, 200, 429, 429], statuses);
        Assert.Equal(3, gateway.Upstream.Requests.Count(r => r.Model == model));

        gateway.Clock.Advance(TimeSpan.FromSeconds(60));
        using var again = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, "alice-secret-token");
        Assert.Equal(200, (int)again.StatusCode);
        Assert.Equal(4, gateway.Upstream.Requests.Count(r => r.Model == model));
    }

    [Fact]
    public async Task Over_its_daily_tokens_a_client_is_refused_until_the_next_Pacific_day_and_usage_matches_upstream()
    {
        var model = FrontendFixture.NewModel();
        using var first = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, ClientsFrontendFixture.BobToken);
        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal("1", Header(first, "x-ratelimit-limit-tokens"));
        var usage = (await first.ReadJsonAsync()).GetProperty("usageMetadata");
        var total = usage.GetProperty("totalTokenCount").GetInt64();

        // the answer's tokens reach the grain right after the answer; then the budget is spent
        await ClientsFrontendFixture.EventuallyAsync(async () => Today(await gateway.UsageAsync(ClientsFrontendFixture.BobToken), "bob").GetProperty("totalTokens").GetInt64() == total,
            "bob's tokens are counted");
        var today = Today(await gateway.UsageAsync(ClientsFrontendFixture.BobToken), "bob");
        Assert.Equal(usage.GetProperty("promptTokenCount").GetInt64(), today.GetProperty("promptTokens").GetInt64());
        Assert.Equal(usage.GetProperty("candidatesTokenCount").GetInt64(), today.GetProperty("candidatesTokens").GetInt64());

        using var refused = await gateway.Client.SendAsync(OpenAiChat(model, ClientsFrontendFixture.BobToken), Cancel);
        Assert.Equal(429, (int)refused.StatusCode);
        var error = (await refused.ReadJsonAsync()).GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("tokens per day (tpd", error.GetProperty("message").GetString());
        Assert.Equal("0", Header(refused, "x-ratelimit-remaining-tokens"));
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.FromHours(1), "retry at the next Pacific midnight");
        Assert.Equal(1, gateway.Upstream.Requests.Count(r => r.Model == model));

        gateway.Clock.Advance(refused.Headers.RetryAfter!.Delta!.Value);
        using var nextDay = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, ClientsFrontendFixture.BobToken);
        Assert.Equal(200, (int)nextDay.StatusCode);
        var after = await gateway.UsageAsync(ClientsFrontendFixture.BobToken);
        var days = after.GetProperty("clients")[0].GetProperty("days").EnumerateArray().ToArray();
        Assert.Equal(total, days[^2].GetProperty("counts").GetProperty("totalTokens").GetInt64()); // yesterday kept
        Assert.Equal(1, days[^2].GetProperty("counts").GetProperty("refused").GetInt64());
    }

    [Fact]
    public async Task Over_rpd_the_client_is_refused_with_the_daily_window_in_the_headers()
    {
        var model = FrontendFixture.NewModel();
        for (var i = 0; i < 2; i++)
        {
            using var ok = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, "frank-secret-token");
            Assert.Equal(200, (int)ok.StatusCode);
            Assert.Equal("2", Header(ok, "x-ratelimit-limit-requests"));
        }
        using var refused = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, "frank-secret-token");
        var error = await refused.AssertGoogleErrorAsync(429);
        Assert.Contains("2 requests per day (rpd", error.GetProperty("message").GetString());
        Assert.Equal(2, gateway.Upstream.Requests.Count(r => r.Model == model));
    }

    [Fact]
    public async Task Past_its_concurrency_a_client_is_refused_until_a_request_finishes()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.Options.HoldStreamsAfterFirstEvent = true;
        try
        {
            using var stream = await gateway.Client.SendAsync(
                gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt, "carol-secret-token"),
                HttpCompletionOption.ResponseHeadersRead, Cancel);
            Assert.Equal(200, (int)stream.StatusCode);
            await gateway.Upstream.WaitUntilAsync(fake => fake.HeldStreams == 1, cancellationToken: Cancel);

            using var second = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, "carol-secret-token");
            var error = await second.AssertGoogleErrorAsync(429);
            Assert.Contains("1 requests in flight (concurrency)", error.GetProperty("message").GetString());
            Assert.DoesNotContain(gateway.Upstream.Requests, r => r.Model == model && r.Path.EndsWith(":generateContent", StringComparison.Ordinal));

            gateway.Upstream.ReleaseStreams();
            await stream.Content.ReadAsStringAsync(Cancel);
        }
        finally
        {
            gateway.Upstream.Options.HoldStreamsAfterFirstEvent = false;
            gateway.Upstream.ReleaseStreams();
        }
        // the slot is given back as soon as the stream ends
        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            using var third = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, "carol-secret-token");
            return third.IsSuccessStatusCode;
        }, "carol's slot is free again");
    }

    [Fact]
    public async Task A_client_that_leaves_a_merged_list_mid_way_gets_its_concurrency_slot_back_and_a_499_line()
    {
        const string nina = "nina-secret-token"; // concurrency=1
        var (file, _) = await gateway.UploadAsync(Encoding.UTF8.GetBytes("a file for nina's list"), 4096, "nina");
        var name = file.GetProperty("name").GetString()!;
        using (var get = await gateway.GetAsync("/v1beta/" + name))
        {
            Assert.Equal(200, (int)get.StatusCode);
        }
        var owner = Array.IndexOf(FrontendFixture.Keys, gateway.Upstream.Requests.Last(r => r.Path == "/v1beta/" + name).ApiKey);
        await gateway.RotationStatusWhenAsync(status => status.KeyStatus(owner).GetProperty("resources").GetProperty("files").GetInt32() > 0);
        gateway.Upstream.SetFault(FrontendFixture.Keys[owner], FakeFault.Hang, times: 1); // the list call never answers
        var arrivedBefore = gateway.Upstream.CountFor(FrontendFixture.Keys[owner]);
        try
        {
            using var leave = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
            var listing = gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, "/v1beta/files", token: nina), leave.Token);
            await gateway.Upstream.WaitUntilAsync(u => u.CountFor(FrontendFixture.Keys[owner]) > arrivedBefore, cancellationToken: Cancel);
            leave.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listing);
        }
        finally
        {
            gateway.Upstream.ClearFaults();
        }

        await ClientsFrontendFixture.EventuallyAsync(() => Task.FromResult(gateway.Logs.Lines.Any(line => line.Contains("nina native files") && line.Contains("-> 499"))),
            "the request log has the list, as closed by the client");
        // its one slot is free again: not held, and renewed, for as long as the process lives
        var model = FrontendFixture.NewModel();
        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            using var next = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, nina);
            return next.IsSuccessStatusCode;
        }, "nina's slot is free again");
    }

    [Fact]
    public async Task A_model_outside_the_allowlist_gets_403_in_each_surface_shape_and_never_reaches_upstream()
    {
        var denied = FrontendFixture.NewModel();
        using var native = await gateway.PostJsonAsync($"/v1beta/models/{denied}:generateContent", FrontendAssertions.Prompt, "dave-secret-token");
        var error = await native.AssertGoogleErrorAsync(403);
        Assert.Equal("PERMISSION_DENIED", error.GetProperty("status").GetString());

        using var openAi = await gateway.Client.SendAsync(OpenAiChat(denied, "dave-secret-token"), Cancel);
        Assert.Equal(403, (int)openAi.StatusCode);
        Assert.Equal("permission_denied", (await openAi.ReadJsonAsync()).GetProperty("error").GetProperty("code").GetString());
        using var interaction = await gateway.PostJsonAsync("/v1beta/interactions", $$"""{"model":"{{denied}}","input":"hi"}""", "dave-secret-token");
        Assert.Equal("PERMISSION_DENIED", (await interaction.AssertGoogleErrorAsync(403)).GetProperty("status").GetString());
        Assert.DoesNotContain(gateway.Upstream.Requests, r => r.Model == denied);

        var allowed = "gemini-allowed-" + Guid.NewGuid().ToString("N")[..8];
        using var ok = await gateway.PostJsonAsync($"/v1beta/models/{allowed}:generateContent", FrontendAssertions.Prompt, "dave-secret-token");
        Assert.Equal(200, (int)ok.StatusCode);
        Assert.False(ok.Headers.Contains("x-ratelimit-limit-requests"), "no limit, no headers");

        using var list = await gateway.GetAsync("/v1/models", "dave-secret-token");
        Assert.Equal(200, (int)list.StatusCode);

        const string live = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
        using var liveRefused = await gateway.GetAsync(live, "dave-secret-token");
        Assert.Equal("PERMISSION_DENIED", (await liveRefused.AssertGoogleErrorAsync(403)).GetProperty("status").GetString());
        using var liveAllowed = await gateway.GetAsync(live, "erin-secret-token");
        Assert.Equal(426, (int)liveAllowed.StatusCode); // past the client check: only the missing WebSocket upgrade is wrong

        var dave = gateway.Services.GetRequiredService<ClientsFile>().Current.Clients.Single(c => c.Name == "dave");
        Assert.False(dave.AllowsLiveSessions());
        Assert.True(gateway.Services.GetRequiredService<ClientsFile>().Current.Clients.Single(c => c.Name == "erin").AllowsLiveSessions());

        await ClientsFrontendFixture.EventuallyAsync(async () =>
            Today(await gateway.UsageAsync("dave-secret-token"), "dave").GetProperty("refused").GetInt64() == 4, "the refusals (native, OpenAI, interaction, Live) count as refused");
    }

    [Fact]
    public async Task Usage_shows_a_client_only_its_own_and_the_admin_every_client()
    {
        var model = FrontendFixture.NewModel();
        using (var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, "erin-secret-token"))
        {
            Assert.Equal(200, (int)response.StatusCode);
        }
        using (var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, "grace-secret-token"))
        {
            Assert.Equal(200, (int)response.StatusCode);
        }

        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            var own = await gateway.UsageAsync("erin-secret-token");
            return Day(own, "erin", model).ValueKind == JsonValueKind.Object;
        }, "erin's batch arrives");
        var erin = await gateway.UsageAsync("erin-secret-token");
        var names = erin.GetProperty("clients").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToArray();
        Assert.Equal(["erin"], names);
        Assert.Equal(1, Day(erin, "erin", model).GetProperty("requests").GetInt64());
        Assert.DoesNotContain("grace", erin.GetRawText());
        Assert.DoesNotContain("secret-token", erin.GetRawText());

        var all = await gateway.UsageAsync(ClientsFrontendFixture.AdminToken);
        var everyone = all.GetProperty("clients").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToArray();
        Assert.Contains("erin", everyone);
        Assert.Contains("grace", everyone);
        Assert.Contains(ClientPolicy.UnnamedName, everyone);
        Assert.Equal(1, Day(all, "grace", model).GetProperty("requests").GetInt64());
        Assert.True(all.GetProperty("pool").GetProperty("today").GetProperty("requests").GetInt64() >= 2);

        using var anonymous = await gateway.GetAsync("/usage", token: null);
        Assert.Equal(401, (int)anonymous.StatusCode);
    }

    [Fact]
    public async Task Usage_batched_while_requests_run_counts_each_request_and_its_tokens_exactly_once()
    {
        // erin has no limits: her usage goes through the batching reporter (flushed every second) while 12 callers run
        var model = FrontendFixture.NewModel();
        const int Requests = 240;
        long totalTokens = 0;
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= Requests)
            {
                using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, "erin-secret-token");
                Assert.Equal(200, (int)response.StatusCode);
                Interlocked.Add(ref totalTokens, (await response.ReadJsonAsync()).GetProperty("usageMetadata").GetProperty("totalTokenCount").GetInt64());
            }
        }));

        await ClientsFrontendFixture.EventuallyAsync(async () =>
            Day(await gateway.UsageAsync("erin-secret-token"), "erin", model) is { ValueKind: JsonValueKind.Object } day && day.GetProperty("requests").GetInt64() >= Requests,
            "erin's batches arrive");
        await Task.Delay(ClientUsageReporter.FlushInterval * 2, Cancel); // two more flushes: nothing counted twice
        var counts = Day(await gateway.UsageAsync("erin-secret-token"), "erin", model);
        Assert.Equal(Requests, counts.GetProperty("requests").GetInt64());
        Assert.Equal(0, counts.GetProperty("errors").GetInt64());
        Assert.Equal(totalTokens, counts.GetProperty("totalTokens").GetInt64());
    }

    [Fact]
    public async Task Metrics_and_the_request_log_name_the_client_never_its_token()
    {
        var model = FrontendFixture.NewModel();
        using (var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, "erin-secret-token"))
        {
            Assert.Equal(200, (int)response.StatusCode);
        }
        // the request and its tokens are counted once the answer has been relayed, which a fast client can beat
        var text = "";
        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            using var metrics = await gateway.GetAsync("/metrics");
            text = await metrics.Content.ReadAsStringAsync(Cancel);
            return Regex.IsMatch(text, $$"""gemini_party_requests_total\{(?=[^}]*client="erin")(?=[^}]*model="{{model}}")""")
                && Regex.IsMatch(text, $$"""gemini_party_tokens_total\{(?=[^}]*client="erin")(?=[^}]*model="{{model}}")""");
        }, "/metrics counts erin's request and tokens under her name");
        Assert.DoesNotContain("secret-token", text);
        await ClientsFrontendFixture.EventuallyAsync(() => Task.FromResult(gateway.Logs.Lines.Any(line => line.Contains($"erin native {model}"))),
            "the request log line names erin");
        Assert.DoesNotContain(gateway.Logs.Lines, line => line.Contains("secret-token"));
    }

    [Fact]
    public async Task A_token_removed_from_the_file_stops_working_and_a_bad_change_keeps_the_last_good_list()
    {
        var model = FrontendFixture.NewModel();
        var path = gateway.ClientsPath;
        await File.AppendAllTextAsync(path, "\nheidi heidi-secret-token\n", Cancel);
        await ClientsFrontendFixture.EventuallyAsync(async () => await StatusOfAsync(model, "heidi-secret-token") == 200, "heidi's new token works");

        await File.WriteAllTextAsync(path, ClientsFrontendFixture.InitialClients + "\nheidi heidi-secret-token rpm=notanumber\n", Cancel);
        await ClientsFrontendFixture.EventuallyAsync(async () =>
        {
            var status = await gateway.RotationStatusAsync();
            return status.GetProperty("data").GetProperty("clientsFile").GetProperty("error").GetString() is { } error && error.Contains($"line {ClientsFrontendFixture.NextLine}:");
        }, "/rotation-status shows the refused change by line");
        Assert.Equal(200, await StatusOfAsync(model, "heidi-secret-token")); // the last good list stays in force
        var rotation = await gateway.RotationStatusAsync();
        Assert.DoesNotContain("heidi-secret-token", rotation.GetRawText());

        await File.WriteAllTextAsync(path, ClientsFrontendFixture.InitialClients, Cancel);
        await ClientsFrontendFixture.EventuallyAsync(async () => await StatusOfAsync(model, "heidi-secret-token") == 401, "heidi's token is revoked");
        Assert.Equal(200, await StatusOfAsync(model, "erin-secret-token"));
        Assert.Equal(200, await StatusOfAsync(model, FrontendFixture.Token)); // AUTH_TOKEN still works
    }

    private async Task<int> StatusOfAsync(string model, string token)
    {
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt, token);
        return (int)response.StatusCode;
    }

    private HttpRequestMessage OpenAiChat(string model, string token) =>
        gateway.Request(HttpMethod.Post, "/v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""", token);
}
