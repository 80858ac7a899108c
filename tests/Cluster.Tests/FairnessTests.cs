namespace GeminiParty.Cluster.Tests;

/// <summary>
/// Two frontends, one rotation: clients spread over frontends still spread evenly over the keys. Each frontend holds
/// at most LEASE_BATCH unused keys, each key at most ⌈LEASE_BATCH / keys⌉ times, so at any moment a key's use is at most
/// that many per frontend behind the pool's ±1 rotation: max - min &lt;= 1 + frontends × ⌈LEASE_BATCH / keys⌉.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FairnessTests(ClusterFixture cluster)
{
    [Fact]
    public async Task Requests_alternating_between_frontends_use_each_key_equally()
    {
        var model = ClusterFixture.NewModel();
        const int requests = 30;
        for (var i = 0; i < requests; i++)
        {
            var status = await cluster.GenerateAsync(i % 2, model, TestContext.Current.CancellationToken);
            Assert.True(status == 200, $"request {i} through frontend-{i % 2 + 1}: {status}\n{cluster.Diagnostics()}");
        }

        AssertEvenSpread(await SeenAsync(model, requests), requests);
    }

    [Fact]
    public async Task Concurrent_requests_through_both_frontends_use_each_key_equally()
    {
        var model = ClusterFixture.NewModel();
        const int requests = 60;
        var next = -1;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        // four callers per frontend, taking request numbers from one counter
        var callers = Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < requests)
            {
                var status = await cluster.GenerateAsync(caller % 2, model, TestContext.Current.CancellationToken);
                if (status != 200)
                {
                    failures.Add($"frontend-{caller % 2 + 1}: {status}");
                }
            }
        }));
        await Task.WhenAll(callers);
        Assert.True(failures.IsEmpty, $"failed: {string.Join(", ", failures)}\n{cluster.Diagnostics()}");

        AssertEvenSpread(await SeenAsync(model, requests), requests);
    }

    private async Task<int[]> SeenAsync(string model, int requests)
    {
        await cluster.Upstream.WaitUntilAsync(_ => cluster.KeysSeenFor(model).Length >= requests, cancellationToken: TestContext.Current.CancellationToken);
        return cluster.KeysSeenFor(model);
    }

    private void AssertEvenSpread(int[] seen, int requests)
    {
        var keys = cluster.ConfiguredKeys.Count;
        var perKey = Enumerable.Range(0, keys).Select(key => seen.Count(k => k == key)).ToArray();
        var spread = string.Join(", ", perKey.Select((count, key) => $"key {key}: {count}"));
        Assert.True(seen.Length == requests, $"upstream saw {seen.Length} calls for {requests} requests ({spread})");
        const int frontends = 2;
        var bound = 1 + frontends * ((cluster.LeaseBatch + keys - 1) / keys);
        Assert.True(perKey.Max() - perKey.Min() <= bound, $"expected at most {bound} between the most and least used key, got {spread}");
    }
}
