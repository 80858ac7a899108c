using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

public sealed class ShortTimeoutsFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["UPSTREAM_TIMEOUT"] = "1500",
        ["STREAM_IDLE_TIMEOUT"] = "1500",
    };
}

/// <summary>
/// UPSTREAM_TIMEOUT and STREAM_IDLE_TIMEOUT, scaled down so the test is quick: a silence shorter than the idle timeout
/// passes intact (the defaults allow minutes, for thinking models), a longer one ends with a clear error, never a hang.
/// </summary>
public sealed class TimeoutTests(ShortTimeoutsFrontendFixture gateway) : IClassFixture<ShortTimeoutsFrontendFixture>, IDisposable
{
    public void Dispose()
    {
        gateway.Upstream.Options.StreamIdleAfterFirstEvent = TimeSpan.Zero;
        gateway.Upstream.ClearFaults();
    }

    [Fact]
    public async Task A_stream_that_pauses_less_than_the_idle_timeout_arrives_intact()
    {
        gateway.Upstream.Options.StreamIdleAfterFirstEvent = TimeSpan.FromMilliseconds(900);
        var model = FrontendFixture.NewModel();

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt);

        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(3, body.Split("data: ").Length - 1);
        Assert.Contains("usageMetadata", body);
        Assert.DoesNotContain("\"error\"", body);
    }

    [Fact]
    public async Task A_stream_silent_past_the_idle_timeout_ends_with_an_error_event()
    {
        gateway.Upstream.Options.StreamIdleAfterFirstEvent = TimeSpan.FromSeconds(5);
        var model = FrontendFixture.NewModel();
        var started = DateTime.UtcNow;

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4.5));
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("candidates", events[0]);
        Assert.Contains("\"error\"", events[^1]);
    }

    [Fact]
    public async Task A_hung_upstream_call_becomes_a_504_after_the_upstream_timeout()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(FrontendFixture.Keys[0], FakeFault.Hang, times: 1);
        var started = DateTime.UtcNow;

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);

        await response.AssertGoogleErrorAsync(504);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1.2), TimeSpan.FromSeconds(5));
        using var health = await gateway.GetAsync("/healthz", token: null);
        Assert.Equal(200, (int)health.StatusCode);
    }
}
