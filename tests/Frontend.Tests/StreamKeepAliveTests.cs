using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

public sealed class StreamKeepAliveFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["STREAM_KEEPALIVE"] = "200",
    };
}

/// <summary>STREAM_KEEPALIVE: SSE comments during a stream's silence, between whole events only.</summary>
public sealed class StreamKeepAliveTests(StreamKeepAliveFrontendFixture gateway) : IClassFixture<StreamKeepAliveFrontendFixture>, IDisposable
{
    public void Dispose()
    {
        gateway.Upstream.Options.StreamIdleAfterFirstEvent = TimeSpan.Zero;
        gateway.Upstream.ClearFaults();
    }

    [Fact]
    public async Task A_silent_stream_gets_keep_alive_comments_between_whole_events()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.Options.StreamIdleAfterFirstEvent = TimeSpan.FromMilliseconds(1200);

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt);

        Assert.Equal(200, (int)response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var blocks = body.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var comments = blocks.Count(block => block == ": keep-alive");
        Assert.InRange(comments, 2, 12); // about one per 200 ms of the pause
        Assert.All(blocks, block => Assert.True(block == ": keep-alive" || block.StartsWith("data: {", StringComparison.Ordinal), block));
        Assert.Equal(3, blocks.Count(block => block.StartsWith("data: ", StringComparison.Ordinal)));
        Assert.StartsWith("data: ", blocks[0]); // the pause came after the first event
    }

    [Fact]
    public async Task An_answer_that_is_not_a_stream_gets_no_comment()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.Options.StreamIdleAfterFirstEvent = TimeSpan.FromMilliseconds(800);

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:streamGenerateContent", FrontendAssertions.Prompt);

        Assert.Equal(200, (int)response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("keep-alive", body);
    }
}
