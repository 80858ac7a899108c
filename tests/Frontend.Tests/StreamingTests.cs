using System.Text;
using System.Text.Json;
using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

[Collection(FrontendCollection.Name)]
public sealed class StreamingTests(FrontendFixture gateway) : IDisposable
{
    public void Dispose()
    {
        gateway.Upstream.Options.HoldStreamsAfterFirstEvent = false;
        gateway.Upstream.ReleaseStreams();
        gateway.Upstream.ClearFaults();
    }

    [Fact]
    public async Task The_first_event_reaches_the_client_while_upstream_is_still_generating()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.Options.HoldStreamsAfterFirstEvent = true;
        var ct = TestContext.Current.CancellationToken;

        using var response = await gateway.Client.SendAsync(
            gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt),
            HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));

        var first = await ReadEventAsync(reader, ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.Contains("candidates", first);
        // upstream has not finished (it holds the stream until released below): the event came through on its own.
        // The fake counts a stream as held just after flushing its first event, so that count may trail the event.
        for (var deadline = DateTime.UtcNow.AddSeconds(5); gateway.Upstream.HeldStreams == 0 && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(10, ct);
        }
        Assert.Equal(1, gateway.Upstream.HeldStreams);

        gateway.Upstream.ReleaseStreams();
        var rest = new List<string>();
        while (await ReadEventAsync(reader, ct) is { } next)
        {
            rest.Add(next);
        }
        Assert.Equal(2, rest.Count);
        Assert.Contains("usageMetadata", rest[^1]);
    }

    [Fact]
    public async Task Without_alt_sse_the_stream_is_one_JSON_array()
    {
        var model = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:streamGenerateContent", FrontendAssertions.Prompt);
        Assert.Equal(200, (int)response.StatusCode);
        var json = await response.ReadJsonAsync();
        Assert.Equal(JsonValueKind.Array, json.ValueKind);
        Assert.Equal(3, json.GetArrayLength());
    }

    [Fact]
    public async Task A_key_failing_before_the_first_byte_is_switched_and_the_client_sees_one_clean_stream()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(FrontendFixture.Keys[0], FakeFault.RateLimitPerMinute(20), times: 1);

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt);

        Assert.Equal(200, (int)response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(3, body.Split("data: ").Length - 1);
        Assert.Equal([0, 1], gateway.KeysSeenFor(model));
    }

    [Fact]
    public async Task A_stream_that_breaks_after_its_first_byte_ends_with_an_error_event_and_no_second_generation()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(FrontendFixture.Keys[0], FakeFault.MidStreamFailure, times: 1);

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt);

        Assert.Equal(200, (int)response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        FrontendAssertions.AssertNoUpstreamKey(body);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("\"error\"", events[^1]);
        Assert.Equal([0], gateway.KeysSeenFor(model)); // never spliced with another key's generation
    }

    private static async Task<string?> ReadEventAsync(StreamReader reader, CancellationToken ct)
    {
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    return data.ToString();
                }
                continue;
            }
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line[6..]);
            }
        }
        return data.Length > 0 ? data.ToString() : null;
    }
}
