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

    [Fact]
    public async Task Request_ids_of_the_two_frontends_never_meet()
    {
        var ids = new List<(int Frontend, string Id)>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await cluster.Client(i % 2).SendAsync(ClusterFixture.GenerateRequest(ClusterFixture.NewModel()), TestContext.Current.CancellationToken);
            Assert.Equal(200, (int)response.StatusCode);
            ids.Add((i % 2, Assert.Single(response.Headers.GetValues("x-request-id"))));
        }

        Assert.Equal(ids.Count, ids.Select(pair => pair.Id).Distinct().Count());
        // each replica numbers its requests under a tag of its own, drawn at random when it started
        var tags = ids.GroupBy(pair => pair.Frontend, pair => pair.Id.Split('-')[0]).ToDictionary(group => group.Key, group => group.Distinct().Single());
        Assert.NotEqual(tags[0], tags[1]);
    }

    [Fact]
    public async Task Made_up_model_names_reach_neither_the_status_nor_Redis()
    {
        const string unknown = "(unknown)"; // KnownModels.Unknown: where attempts on names upstream never served count
        var ct = TestContext.Current.CancellationToken;
        var before = (await cluster.StatusAsync(0, ct)).Total(unknown, "attempts");
        var prefix = $"unknown-{Guid.NewGuid():N}"[..16]; // the fake, like Google, knows no such model
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(404, await cluster.GenerateAsync(i % 2, $"{prefix}-{i}", ct));
        }
        var served = ClusterFixture.NewModel();
        Assert.Equal(200, await cluster.GenerateAsync(0, served, ct));

        // both frontends' reports reach the pool within a batch interval, and its counters reach Redis every second
        var status = await cluster.StatusCountingAsync(1, unknown, before + 20, ct);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        IReadOnlyDictionary<string, string> stored;
        while (true)
        {
            stored = await cluster.Redis.DumpAsync();
            if (stored.Values.Any(value => value.Contains(served, StringComparison.Ordinal)))
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the counters of {served} never reached Redis\n{cluster.Diagnostics()}");
            await Task.Delay(250, ct);
        }

        // every attempt counted, together (other tests' late reports may add to the shared pool's count)
        Assert.True(status.Total(unknown, "attempts") >= before + 20, $"{unknown} counts {status.Total(unknown, "attempts")}, was {before}");
        Assert.DoesNotContain(prefix, status.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(stored, pair => pair.Key.Contains(prefix, StringComparison.Ordinal) || pair.Value.Contains(prefix, StringComparison.Ordinal));
    }

    private static string ModelStats(JsonElement status, string model) =>
        status.GetProperty("data").GetProperty("modelStats").EnumerateArray()
            .Single(stats => stats.GetProperty("name").GetString() == model).GetRawText();
}
