using System.Text.Json;

namespace GeminiParty.Cluster.Tests;

/// <summary>Every frontend answers /rotation-status from the same pool grain, so dashboards agree whichever replica they hit.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RotationStatusTests(ClusterFixture cluster)
{
    [Fact]
    public async Task Both_frontends_report_the_same_counts()
    {
        var model = ClusterFixture.NewModel();
        const int requests = 12;
        for (var i = 0; i < requests; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(i % 2, model, TestContext.Current.CancellationToken));
        }

        // Success reports reach the pool in batches every 50 ms: poll until both frontends show all of them.
        JsonElement a = default, b = default;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            a = await cluster.StatusAsync(0, TestContext.Current.CancellationToken);
            b = await cluster.StatusAsync(1, TestContext.Current.CancellationToken);
            if (a.Total(model, "successes") == requests && a.CountersFor(model) == b.CountersFor(model))
            {
                break;
            }
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Equal(requests, a.Total(model, "attempts"));
        Assert.Equal(requests, a.Total(model, "successes"));
        Assert.Equal(a.CountersFor(model), b.CountersFor(model));
        Assert.Equal(ModelStats(a, model), ModelStats(b, model));
        Assert.False(string.IsNullOrEmpty(a.PoolSilo()), $"no data.cluster.poolSilo: {a}");
        Assert.Equal(a.PoolSilo(), b.PoolSilo());
        Assert.Equal("redis", a.GetProperty("data").GetProperty("summary").GetProperty("storage").GetString());
    }

    private static string ModelStats(JsonElement status, string model) =>
        status.GetProperty("data").GetProperty("modelStats").EnumerateArray()
            .Single(stats => stats.GetProperty("name").GetString() == model).GetRawText();
}
