using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>Each row of the classification table, seen from the client and from the pool's status.</summary>
[Collection(FrontendCollection.Name)]
public sealed class UpstreamFailureTests(FrontendFixture gateway) : IDisposable
{
    private static readonly string[] Keys = FrontendFixture.Keys;

    public void Dispose() => gateway.Upstream.ClearFaults();

    private Task<HttpResponseMessage> GenerateAsync(string model) =>
        gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);

    [Fact]
    public async Task A_per_minute_429_cools_that_key_for_the_retry_delay_and_the_request_succeeds_on_another()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(Keys[0], FakeFault.RateLimitPerMinute(45), times: 1);

        using var response = await GenerateAsync(model);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal([0, 1], gateway.KeysSeenFor(model));
        var cooldown = (await gateway.RotationStatusAsync()).KeyStatus(0).GetProperty("cooldowns").EnumerateArray().Single(c => c.GetProperty("model").GetString() == model);
        Assert.InRange(cooldown.GetProperty("remainingMs").GetInt64(), 40_000, 45_000);

        for (var i = 0; i < 4; i++)
        {
            using var next = await GenerateAsync(model);
            Assert.Equal(200, (int)next.StatusCode);
        }
        Assert.Equal(1, gateway.KeysSeenFor(model).Count(k => k == 0)); // key 0 rests for this model

        var other = FrontendFixture.NewModel();
        using var otherResponse = await GenerateAsync(other);
        Assert.Equal([0], gateway.KeysSeenFor(other)); // ... and only for this model
    }

    [Fact]
    public async Task A_429_without_retry_info_cools_for_the_blacklist_timeout()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(Keys[0], FakeFault.RateLimitPerMinute(null), times: 1);

        using var response = await GenerateAsync(model);

        Assert.Equal(200, (int)response.StatusCode);
        var cooldown = (await gateway.RotationStatusAsync()).KeyStatus(0).GetProperty("cooldowns").EnumerateArray().Single(c => c.GetProperty("model").GetString() == model);
        Assert.InRange(cooldown.GetProperty("remainingMs").GetInt64(), 295_000, 300_000);
    }

    [Fact]
    public async Task A_daily_quota_429_benches_the_key_until_the_Pacific_midnight()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(Keys[0], FakeFault.QuotaPerDay(), times: 1);

        using var response = await GenerateAsync(model);

        Assert.Equal(200, (int)response.StatusCode);
        var cooldown = (await gateway.RotationStatusAsync()).KeyStatus(0).GetProperty("cooldowns").EnumerateArray().Single(c => c.GetProperty("model").GetString() == model);
        var until = cooldown.GetProperty("until").GetDateTimeOffset();
        var pacific = TimeZoneInfo.FindSystemTimeZoneById("America/Los_Angeles");
        Assert.Equal(TimeSpan.Zero, TimeZoneInfo.ConvertTime(until, pacific).TimeOfDay);
        Assert.InRange(until - DateTimeOffset.UtcNow, TimeSpan.Zero, TimeSpan.FromHours(24));
    }

    [Theory]
    [InlineData(FakeFaultKind.Internal500)]
    [InlineData(FakeFaultKind.Overloaded503)]
    [InlineData(FakeFaultKind.ConnectionReset)]
    [InlineData(FakeFaultKind.NonJson)]
    public async Task Server_errors_and_resets_are_retried_on_another_key_without_a_cooldown(FakeFaultKind kind)
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(Keys[0], new FakeFault(kind), times: 1);

        using var response = await GenerateAsync(model);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal([0, 1], gateway.KeysSeenFor(model));
        var key0 = (await gateway.RotationStatusAsync()).KeyStatus(0);
        Assert.DoesNotContain(key0.GetProperty("cooldowns").EnumerateArray(), c => c.GetProperty("model").GetString() == model);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, key0.GetProperty("invalid").ValueKind);
    }

    /// <summary>
    /// Google answers some requests 500 on every key (the request, not the key, is at fault): however often such a request
    /// comes, the keys that failed it are not benched, where five failures in a row of one key would bench it.
    /// </summary>
    [Fact]
    public async Task A_request_that_fails_with_500_on_every_key_it_tries_benches_no_key_however_often_it_comes()
    {
        var model = FrontendFixture.NewModel();
        using (var known = await GenerateAsync(model))
        {
            Assert.Equal(200, (int)known.StatusCode); // a model upstream served is counted under its own name
        }
        const int requests = 6; // three attempts each: six failures per key, more than KEY_TRANSIENT_LIMIT's five in a row
        foreach (var key in Keys)
        {
            gateway.Upstream.SetFault(key, FakeFault.Internal500, times: 100); // cleared below
        }
        for (var i = 0; i < requests; i++)
        {
            using var response = await GenerateAsync(model);
            Assert.True(500 == (int)response.StatusCode, $"request {i}: {(int)response.StatusCode} after keys {string.Join(",", gateway.KeysSeenFor(model))}");
        }
        gateway.Upstream.ClearFaults();

        var status = await gateway.RotationStatusWhenAsync(s => Transients(s, model) >= requests * Keys.Length);
        Assert.Equal(requests * Keys.Length, Transients(status, model)); // every failure is counted, none blamed
        for (var key = 0; key < Keys.Length; key++)
        {
            Assert.DoesNotContain(status.KeyStatus(key).GetProperty("cooldowns").EnumerateArray(), c => c.GetProperty("model").GetString() == model);
        }
        using var after = await GenerateAsync(model);
        Assert.Equal(200, (int)after.StatusCode);
    }

    [Fact]
    public async Task A_key_that_fails_with_500_five_times_in_a_row_while_other_keys_serve_the_same_requests_is_benched_for_the_model()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(Keys[0], FakeFault.Internal500, times: 5);
        for (var i = 0; i < 30 && gateway.KeysSeenFor(model).Count(key => key == 0) < 5; i++)
        {
            using var response = await GenerateAsync(model);
            Assert.Equal(200, (int)response.StatusCode); // another key served each one
        }
        Assert.Equal(5, gateway.KeysSeenFor(model).Count(key => key == 0));

        var status = await gateway.RotationStatusWhenAsync(s =>
            s.KeyStatus(0).GetProperty("cooldowns").EnumerateArray().Any(c => c.GetProperty("model").GetString() == model));
        Assert.Contains(status.KeyStatus(0).GetProperty("cooldowns").EnumerateArray(), c => c.GetProperty("model").GetString() == model);
    }

    private static long Transients(System.Text.Json.JsonElement status, string model) =>
        status.GetProperty("data").GetProperty("modelStats").EnumerateArray().Where(m => m.GetProperty("name").GetString() == model)
            .Select(m => m.GetProperty("lifetime").GetProperty("failures").GetProperty("transient").GetInt64()).SingleOrDefault();

    [Theory]
    [InlineData(FakeFaultKind.DeadlineExceeded504, 504)]
    [InlineData(FakeFaultKind.BadRequest400, 400)]
    [InlineData(FakeFaultKind.PermissionDenied, 403)]
    [InlineData(FakeFaultKind.LocationNotSupported, 400)]
    public async Task Timeouts_and_client_errors_return_as_they_are_with_no_retry_and_no_blame(FakeFaultKind kind, int status)
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(Keys[0], new FakeFault(kind), times: 1);

        using var response = await GenerateAsync(model);

        var error = await response.AssertGoogleErrorAsync(status);
        Assert.Equal(status, error.GetProperty("code").GetInt32());
        Assert.Equal([0], gateway.KeysSeenFor(model));
        var key0 = (await gateway.RotationStatusAsync()).KeyStatus(0);
        Assert.DoesNotContain(key0.GetProperty("cooldowns").EnumerateArray(), c => c.GetProperty("model").GetString() == model);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, key0.GetProperty("invalid").ValueKind);
        using var again = await GenerateAsync(model);
        Assert.Equal(200, (int)again.StatusCode);
        Assert.Equal([0, 1], gateway.KeysSeenFor(model)); // the next request simply takes the next key in turn
    }

    /// <summary>
    /// A client names a file it does not own, many times over: every key answers 403 without a key reason, the client
    /// gets that 403 each time, and no key is marked invalid or cooled.
    /// </summary>
    [Fact]
    public async Task Naming_resources_one_does_not_own_never_makes_a_key_invalid()
    {
        var model = FrontendFixture.NewModel();
        foreach (var key in Keys)
        {
            gateway.Upstream.SetFault(key, FakeFault.PermissionDenied, times: 4);
        }
        var body = """{"contents":[{"parts":[{"text":"hi"},{"fileData":{"fileUri":"files/abc123","mimeType":"text/plain"}}]}]}""";

        for (var i = 0; i < 3 * Keys.Length; i++)
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", body);
            var error = await response.AssertGoogleErrorAsync(403);
            Assert.Equal("PERMISSION_DENIED", error.GetProperty("status").GetString());
        }

        Assert.Equal(3 * Keys.Length, gateway.KeysSeenFor(model).Length); // one attempt each, no retry
        var status = await gateway.RotationStatusAsync();
        for (var i = 0; i < Keys.Length; i++)
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Null, status.KeyStatus(i).GetProperty("invalid").ValueKind);
        }
    }

    [Fact]
    public async Task An_unknown_model_is_the_clients_404_and_is_not_retried()
    {
        var model = "unknown-" + FrontendFixture.NewModel();
        using var response = await GenerateAsync(model);

        await response.AssertGoogleErrorAsync(404);
        Assert.Single(gateway.KeysSeenFor(model));
    }

    [Fact]
    public async Task When_every_attempt_fails_the_client_gets_the_last_upstream_error()
    {
        var model = FrontendFixture.NewModel();
        foreach (var key in Keys)
        {
            gateway.Upstream.SetFault(key, FakeFault.Overloaded503, times: 1);
        }

        using var response = await GenerateAsync(model);

        var error = await response.AssertGoogleErrorAsync(503);
        Assert.Contains("overloaded", error.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(3, gateway.KeysSeenFor(model).Distinct().Count()); // DEFAULT_MAX_RETRIES attempts, each on another key
    }

    [Fact]
    public async Task When_every_key_cools_the_client_gets_429_with_Retry_After()
    {
        var model = FrontendFixture.NewModel();
        for (var i = 0; i < Keys.Length; i++)
        {
            gateway.Upstream.SetFault(Keys[i], FakeFault.RateLimitPerMinute(30 + 10 * i), times: 1);
        }
        using (var first = await GenerateAsync(model))
        {
            Assert.Equal(429, (int)first.StatusCode); // the third key's own 429 after three attempts
        }

        using var response = await GenerateAsync(model);

        var error = await response.AssertGoogleErrorAsync(429);
        Assert.Equal("RESOURCE_EXHAUSTED", error.GetProperty("status").GetString());
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 25, 30);
        Assert.Equal(3, gateway.KeysSeenFor(model).Length); // the second request never reached upstream
    }

    [Fact]
    public async Task A_client_that_disconnects_cancels_the_upstream_call()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(Keys[0], FakeFault.Hang, times: 1);
        var cancelledBefore = gateway.Upstream.CancelledRequests;
        var arrivedBefore = gateway.Upstream.CountFor(Keys[0]);
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var pending = gateway.Client.SendAsync(
            gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt), leave.Token);
        await gateway.Upstream.WaitUntilAsync(u => u.CountFor(Keys[0]) > arrivedBefore, cancellationToken: TestContext.Current.CancellationToken);
        leave.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await gateway.Upstream.WaitUntilAsync(u => u.CancelledRequests > cancelledBefore, cancellationToken: TestContext.Current.CancellationToken);
    }
}
