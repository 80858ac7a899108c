using System.Net;
using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>What a user sees in the log when the embedded gateway starts well: no warning with a stack trace.</summary>
public sealed class EmbeddedStartLogTests
{
    [Fact]
    public async Task A_good_start_logs_no_exception_and_no_configuration_dump()
    {
        var port = FreeTcpPort.Next();
        await using var frontend = await FrontendProcess.StartAsync(new()
        {
            ["GEMINI_API_KEY"] = "AIzaStartLog01-0123456789abcdefghijklm,AIzaStartLog02-0123456789abcdefghijklm",
            ["AUTH_TOKEN"] = "start-log-token",
            ["GEMINI_BASE_URL"] = "http://127.0.0.1:9", // never called: the test sends no model request
            ["REDIS_CONNECTION_STRING"] = null,
            ["PORT"] = port.ToString(),
            ["ORLEANS_SILO_PORT"] = FreeTcpPort.Next().ToString(),
            ["ORLEANS_GATEWAY_PORT"] = FreeTcpPort.Next().ToString(),
        });

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await frontend.WaitUntilReadyAsync(http);
        // the pool answers the rotation status once it has activated, after the background subscription's first call
        using var status = new HttpRequestMessage(HttpMethod.Get, "/rotation-status");
        status.Headers.Authorization = new("Bearer", "start-log-token");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(status, TestContext.Current.CancellationToken)).StatusCode);
        await WaitForLineAsync(frontend, "Key pool active with 2 keys");

        var log = frontend.Stdout + frontend.Stderr;
        Assert.DoesNotContain("Exception", log);
        Assert.DoesNotContain("   at ", log); // no stack trace
        Assert.DoesNotContain("Polly", log); // Orleans' placement retries, one info line per activation
        Assert.DoesNotContain("SiloOptionsLogger", log); // Orleans' 150-line dump of its options
        Assert.Contains("Now listening on", log);
    }

    private static async Task WaitForLineAsync(FrontendProcess frontend, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!frontend.Stdout.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no '{text}' in the log:\n{frontend.Stdout}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        await Task.Delay(500, TestContext.Current.CancellationToken); // the background subscription's first call
    }
}
