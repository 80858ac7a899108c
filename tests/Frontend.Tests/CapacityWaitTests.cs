using System.Diagnostics;
using GeminiParty.FakeGemini;
using GeminiParty.Frontend.Forwarding;
using Microsoft.Extensions.DependencyInjection;

namespace GeminiParty.Frontend.Tests;

public sealed class CapacityWaitFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["MAX_WAIT"] = "5000",
        ["MAX_WAITING"] = "4",
    };
}

/// <summary>MAX_WAIT: with every key cooling for a model, a request waits for the first to come back instead of a 429.</summary>
public sealed class CapacityWaitTests(CapacityWaitFrontendFixture gateway) : IClassFixture<CapacityWaitFrontendFixture>, IDisposable
{
    private static readonly TimeSpan Cooldown = TimeSpan.FromSeconds(2);

    public void Dispose() => gateway.Upstream.ClearFaults();

    [Fact]
    public async Task Requests_wait_for_a_cooling_key_and_are_served_when_it_returns_sending_nothing_upstream_before()
    {
        // taken before the keys start cooling, so that a slow cooling request cannot make the wait look shorter
        var cooledAt = Stopwatch.GetTimestamp();
        var model = await AllKeysCoolingAsync();
        var upstreamBefore = gateway.KeysSeenFor(model).Length;

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
            return ((int)response.StatusCode, string.Join(",", response.Headers.GetValues("Server-Timing")), Stopwatch.GetElapsedTime(cooledAt));
        }));

        Assert.All(answers, answer => Assert.Equal(200, answer.Item1));
        Assert.All(answers, answer => Assert.Contains("wait;dur=", answer.Item2));
        Assert.All(answers, answer => Assert.True(answer.Item3 > Cooldown - TimeSpan.FromMilliseconds(500), $"served after {answer.Item3}"));
        Assert.Equal(upstreamBefore + 4, gateway.KeysSeenFor(model).Length); // one call each, none while the keys cooled
        Assert.Equal(0, gateway.Services.GetRequiredService<CapacityWaits>().Waiting(model));
    }

    [Fact]
    public async Task A_client_that_asks_for_a_shorter_wait_than_the_cooldown_gets_429_at_once()
    {
        var model = await AllKeysCoolingAsync();
        using var request = gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        request.Headers.Add(CapacityWaits.MaxWaitHeader, "100");
        var sent = Stopwatch.GetTimestamp();

        using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(429, (int)response.StatusCode);
        Assert.True(Stopwatch.GetElapsedTime(sent) < Cooldown - TimeSpan.FromMilliseconds(500));
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Past_MAX_WAITING_a_request_gets_429_at_once_and_a_client_that_leaves_frees_its_place()
    {
        var model = await AllKeysCoolingAsync();
        var waits = gateway.Services.GetRequiredService<CapacityWaits>();
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var waiting = Enumerable.Range(0, 4).Select(_ =>
            gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt), leave.Token)).ToArray();
        await WaitUntilAsync(() => waits.Waiting(model) == 4);

        using (var refused = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt))
        {
            Assert.Equal(429, (int)refused.StatusCode); // the line for this model is full
        }
        var status = (await gateway.RotationStatusAsync()).GetProperty("data");
        Assert.Equal(4, status.GetProperty("waiting").GetProperty(model).GetInt32());
        Assert.Equal(4, status.GetProperty("modelStats").EnumerateArray().Single(m => m.GetProperty("name").GetString() == model)
            .GetProperty("waiting").GetInt32());

        await leave.CancelAsync();
        await WaitUntilAsync(() => waits.Waiting(model) == 0); // gone at once, not at the cooldown's end
        for (var deadline = DateTime.UtcNow.AddSeconds(5); ; await Task.Delay(20, TestContext.Current.CancellationToken))
        {
            var line = (await gateway.RotationStatusAsync()).GetProperty("data").GetProperty("waiting");
            if (!line.TryGetProperty(model, out _))
            {
                break; // the pool's line is empty too
            }
            Assert.True(DateTime.UtcNow < deadline, $"the pool still holds {line} after the clients left");
        }
        foreach (var task in waiting)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        }
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999")]
    public async Task A_wait_header_that_is_not_a_whole_number_of_milliseconds_is_a_400_before_anything_goes_upstream(string value)
    {
        var model = FrontendFixture.NewModel();
        using var request = gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        request.Headers.TryAddWithoutValidation(CapacityWaits.MaxWaitHeader, value);

        using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);

        var error = await response.AssertGoogleErrorAsync(400);
        Assert.Contains(CapacityWaits.MaxWaitHeader, error.GetProperty("message").GetString());
        Assert.Empty(gateway.KeysSeenFor(model)); // it once waited MAX_WAIT as if no header had come
    }

    /// <summary>A fresh model whose three keys all answered 429 with a 2 s retry delay: every key cools for it.</summary>
    private async Task<string> AllKeysCoolingAsync()
    {
        var model = FrontendFixture.NewModel();
        foreach (var key in FrontendFixture.Keys)
        {
            gateway.Upstream.SetFault(key, FakeFault.RateLimitPerMinute((int)Cooldown.TotalSeconds), times: 1);
        }
        using var request = gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        request.Headers.Add(CapacityWaits.MaxWaitHeader, "0");
        using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(429, (int)response.StatusCode);
        Assert.Equal(3, gateway.KeysSeenFor(model).Length);
        return model;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(5); !condition(); await Task.Delay(10, TestContext.Current.CancellationToken))
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
        }
    }
}
