using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GeminiParty.Frontend.Tests;

/// <summary>SIGTERM lets a stream in flight finish. This stops its own gateway, so it gets one of its own.</summary>
public sealed class ShutdownTests(FrontendFixture gateway) : IClassFixture<FrontendFixture>
{
    [Fact]
    public async Task A_stream_in_flight_finishes_when_the_gateway_is_asked_to_stop()
    {
        var ct = TestContext.Current.CancellationToken;
        var model = FrontendFixture.NewModel();
        gateway.Upstream.Options.HoldStreamsAfterFirstEvent = true;
        using var response = await gateway.Client.SendAsync(
            gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:streamGenerateContent?alt=sse", FrontendAssertions.Prompt),
            HttpCompletionOption.ResponseHeadersRead, ct);
        var stream = await response.Content.ReadAsStreamAsync(ct);
        var firstChunk = new byte[256];
        Assert.True(await stream.ReadAsync(firstChunk, ct) > 0);

        var lifetime = gateway.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.StopApplication();
        Assert.True(lifetime.ApplicationStopping.IsCancellationRequested);
        // the gateway stops taking new connections while the stream stays open
        using var newcomer = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var refused = false;
        for (var i = 0; i < 50 && !refused; i++)
        {
            try
            {
                using var probe = await newcomer.GetAsync("/healthz", ct);
                await Task.Delay(100, ct);
            }
            catch (Exception ex) when (ex is HttpRequestException or System.Net.Sockets.SocketException)
            {
                // refused, or accepted into the closing listener's backlog and reset: HttpClient then throws the socket's
                // own error ("Transport endpoint is not connected") instead of wrapping it (seen once in CI)
                refused = true;
            }
        }
        Assert.True(refused, "new connections were still accepted 5 s after the stop began");

        gateway.Upstream.ReleaseStreams();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var rest = await reader.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(20), ct);

        Assert.Contains("usageMetadata", rest); // the last event arrived: the answer is complete
        Assert.DoesNotContain("\"error\"", rest);
    }
}
