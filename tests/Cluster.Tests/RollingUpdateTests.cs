namespace GeminiParty.Cluster.Tests;

/// <summary>During a rolling update frontends may hold fewer keys than the pool: they must never send one they lack.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RollingUpdateTests(ClusterFixture cluster)
{
    [Fact]
    public async Task A_frontend_with_a_shorter_key_list_only_uses_the_keys_it_holds()
    {
        var ct = TestContext.Current.CancellationToken;
        var held = cluster.ConfiguredKeys.Take(2).ToArray();
        await using var partial = await cluster.StartFrontendAsync("frontend-partial", held);
        using var client = new HttpClient { BaseAddress = partial.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var model = ClusterFixture.NewModel();

        for (var i = 0; i < 9; i++)
        {
            using var response = await client.SendAsync(ClusterFixture.GenerateRequest(model), ct);
            Assert.True((int)response.StatusCode == 200, $"request {i}: {(int)response.StatusCode}\n{partial.Tail()}");
        }

        var seen = cluster.KeysSeenFor(model);
        Assert.Equal(9, seen.Length); // no attempt was spent on the key this frontend lacks
        Assert.All(seen, key => Assert.Contains(cluster.Keys[key], held));

        // the full frontends still rotate over every key for the same model
        var before = seen.Length;
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(0, model, ct));
        }
        Assert.Equal(3, cluster.KeysSeenFor(model).Length - before);
    }
}
