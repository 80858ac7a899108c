using System.Net;
using System.Net.Http.Json;
using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// What a user sees in the log when the embedded gateway stops (Ctrl+C after <c>dotnet run</c>) after it has served
/// requests: no failure, no retry, no stack trace. On its way out the silo deactivates the key and client grains, which
/// write their state, and the frontend flushes its last usage and reports.
/// </summary>
public sealed class EmbeddedStopLogTests
{
    private const string Key = "AIzaStopLog001-0123456789abcdefghijklm";

    [Fact]
    public async Task A_stop_after_requests_logs_no_failure_and_no_stack_trace()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var upstream = await FakeGeminiServer.StartAsync(new FakeGeminiOptions { ValidKeys = [Key] }, ct);
        var clientsFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(clientsFile, "ci stop-log-limited rpm=100000 tpd=1000000000 concurrency=100\n", ct);
        try
        {
            var port = FreeTcpPort.Next();
            await using var frontend = await FrontendProcess.StartAsync(new()
            {
                ["GEMINI_API_KEY"] = Key,
                ["AUTH_TOKEN"] = "stop-log-token",
                ["CLIENTS_FILE"] = clientsFile,
                ["GEMINI_BASE_URL"] = upstream.BaseAddress,
                ["REDIS_CONNECTION_STRING"] = null,
                ["PORT"] = port.ToString(),
                ["ORLEANS_SILO_PORT"] = FreeTcpPort.Next().ToString(),
                ["ORLEANS_GATEWAY_PORT"] = FreeTcpPort.Next().ToString(),
            });
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await frontend.WaitUntilReadyAsync(http);

            // both kinds of client, so that the key's counters, the limited client's grain and the unnamed client's
            // batched usage all have something to write when the process stops
            await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1beta/models/gemini-2.5-flash:generateContent")
                {
                    Content = JsonContent.Create(new { contents = new[] { new { parts = new[] { new { text = $"hello {i}" } } } } }),
                };
                request.Headers.Authorization = new("Bearer", i % 2 == 0 ? "stop-log-token" : "stop-log-limited");
                using var answer = await http.SendAsync(request, ct);
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            }));

            Assert.Equal(0, await frontend.StopAsync(TimeSpan.FromSeconds(40)));
            var log = frontend.Stdout + frontend.Stderr;
            Assert.Contains("Application is shutting down", log);
            Assert.DoesNotContain("fail:", log);
            Assert.DoesNotContain("   at ", log); // no stack trace
            Assert.DoesNotContain("Polly", log); // Orleans' placement retries toward a stopping silo
            Assert.DoesNotContain("not persisted", log);
            Assert.DoesNotContain("not acknowledged", log);
        }
        finally
        {
            File.Delete(clientsFile);
        }
    }
}
