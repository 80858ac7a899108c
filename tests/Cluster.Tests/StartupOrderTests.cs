using System.Net;

namespace GeminiParty.Cluster.Tests;

/// <summary>Pods start in any order: a frontend up before any silo waits, says so on its probes, and then serves.</summary>
[Collection(ClusterCollection.Name)]
public sealed class StartupOrderTests(ClusterFixture cluster)
{
    [Fact]
    public async Task A_frontend_started_before_any_silo_is_live_not_ready_and_serves_once_a_silo_joins()
    {
        var ct = TestContext.Current.CancellationToken;
        var newCluster = new Dictionary<string, string?> { ["ORLEANS_CLUSTER_ID"] = $"late-{Guid.NewGuid():N}" };
        await using var frontend = cluster.CreateNode("frontend-early", "Frontend", newCluster);
        await using var silo = cluster.CreateNode("silo-late", "Silo", newCluster);
        using var client = new HttpClient { BaseAddress = frontend.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };
        await frontend.StartAsync();

        var live = await PollAsync(client, "/healthz", HttpStatusCode.OK, TimeSpan.FromSeconds(60), ct);
        Assert.True(live, $"/healthz never answered while waiting for a silo\n{frontend.Tail()}");
        using (var ready = await client.GetAsync("/readyz", ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }
        using (var early = await client.SendAsync(ClusterFixture.GenerateRequest(ClusterFixture.NewModel()), ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode); // a clear, retryable answer, not a 500
            Assert.NotNull(early.Headers.RetryAfter);
        }
        using (var status = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/rotation-status")
        {
            Headers = { Authorization = new("Bearer", ClusterFixture.Token) },
        }, ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status.StatusCode); // the pool cannot be asked: retryable, not a 500
            Assert.NotNull(status.Headers.RetryAfter);
        }

        await silo.StartAsync();
        var becameReady = await PollAsync(client, "/readyz", HttpStatusCode.OK, TimeSpan.FromSeconds(60), ct);
        Assert.True(becameReady, $"the frontend never became ready after the silo joined\n{frontend.Tail()}\n{silo.Tail()}");
        using var served = await client.SendAsync(ClusterFixture.GenerateRequest(ClusterFixture.NewModel()), ct);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    private static async Task<bool> PollAsync(HttpClient client, string path, HttpStatusCode expected, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await client.GetAsync(path, ct);
                if (response.StatusCode == expected)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(250, ct);
        }
        return false;
    }
}
