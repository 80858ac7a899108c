using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GeminiParty.Frontend.Tests;

/// <summary>SIGTERM lets a stream in flight finish. This stops its own gateway, so it gets one of its own.</summary>
public sealed class ShutdownTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task A_stream_in_flight_finishes_when_the_gateway_is_asked_to_stop()
    {
        var ct = TestContext.Current.CancellationToken;
        var model = GatewayFixture.NewModel();
        gateway.Upstream.Options.HoldStreamsAfterFirstEvent = true;
        using var response = await gateway.Client.SendAsync(
            gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:streamGenerateContent?alt=sse", GatewayAssertions.Prompt),
            HttpCompletionOption.ResponseHeadersRead, ct);
        var stream = await response.Content.ReadAsStreamAsync(ct);
        var firstChunk = new byte[256];
        Assert.True(await stream.ReadAsync(firstChunk, ct) > 0);

        var lifetime = gateway.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.StopApplication();
        Assert.True(lifetime.ApplicationStopping.IsCancellationRequested);
        using (var ready = await gateway.GetAsync("/readyz", token: null))
        {
            Assert.Equal(503, (int)ready.StatusCode); // probes see the drain at once and route new traffic elsewhere
        }

        await Task.Delay(500, ct); // the stream stays open while the host drains
        gateway.Upstream.ReleaseStreams();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var rest = await reader.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(20), ct);

        Assert.Contains("usageMetadata", rest); // the last event arrived: the answer is complete
        Assert.DoesNotContain("\"error\"", rest);
    }
}
