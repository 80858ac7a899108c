namespace GeminiParty.Cluster.Tests;

/// <summary>
/// With default settings, a frontend holds no key while one pool call serves its requests, so requests through any
/// number of frontends take keys in the pool's exact ring order; under load the spread stays within the bound of
/// docs/cluster.md: 1 + frontends × ⌈LEASE_BATCH / keys⌉.
/// </summary>
[Collection(DefaultSettingsCollection.Name)]
public sealed class LightLoadRotationTests(DefaultSettingsClusterFixture cluster)
{
    [Fact]
    public async Task Sequential_requests_alternating_between_frontends_follow_the_ring_at_every_prefix()
    {
        var model = ClusterFixture.NewModel();
        var keys = cluster.ConfiguredKeys.Count;
        const int requests = 40;
        for (var i = 0; i < requests; i++)
        {
            var status = await cluster.GenerateAsync(i % 2, model, TestContext.Current.CancellationToken);
            Assert.True(status == 200, $"request {i} through frontend-{i % 2 + 1}: {status}\n{cluster.Diagnostics()}");

            // sequential: the upstream has seen every call so far, in order
            var seen = cluster.KeysSeenFor(model);
            Assert.Equal(i + 1, seen.Length);
            var perKey = Enumerable.Range(0, keys).Select(key => seen.Count(k => k == key)).ToArray();
            Assert.True(perKey.Max() - perKey.Min() <= 1,
                $"after {i + 1} requests the keys were used {string.Join(", ", perKey)} times: {string.Join(" ", seen)}");
        }
        Assert.All(Enumerable.Range(0, keys), key => Assert.Equal(requests / keys, cluster.KeysSeenFor(model).Count(k => k == key)));
    }

    [Fact]
    public async Task Concurrent_requests_through_both_frontends_stay_within_the_documented_bound()
    {
        var model = ClusterFixture.NewModel();
        const int requests = 200;
        var next = -1;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var callers = Enumerable.Range(0, 16).Select(caller => Task.Run(async () =>
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

        await cluster.Upstream.WaitUntilAsync(_ => cluster.KeysSeenFor(model).Length >= requests, cancellationToken: TestContext.Current.CancellationToken);
        var seen = cluster.KeysSeenFor(model);
        var keys = cluster.ConfiguredKeys.Count;
        var perKey = Enumerable.Range(0, keys).Select(key => seen.Count(k => k == key)).ToArray();
        var bound = 1 + 2 * ((cluster.LeaseBatch + keys - 1) / keys);
        Assert.True(perKey.Max() - perKey.Min() <= bound, $"expected at most {bound} between the most and least used key, got {string.Join(", ", perKey)}");
    }
}
