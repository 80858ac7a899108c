using System.Net;
using System.Text.Json;
using GeminiParty.FakeGemini;

namespace GeminiParty.Cluster.Tests;

/// <summary>
/// Keys that look after themselves, across 2 silos and 2 frontends on Redis: a key file swapped live, probes run once
/// per key for the whole cluster, quota shared by a project, admin actions that hold on every frontend. Each test
/// leaves the key file, the keys' validity and their admin state as it found them.
/// </summary>
[Collection(KeyFileCollection.Name)]
public sealed class KeyFileTests(KeyFileClusterFixture cluster)
{
    /// <summary>What the README promises: every process notices a changed key file within this.</summary>
    private static readonly TimeSpan ReloadPromise = TimeSpan.FromSeconds(15);

    private CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_symlink_swap_of_the_key_file_adds_and_removes_keys_on_both_frontends_within_the_stated_time()
    {
        var warm = ClusterFixture.NewModel();
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(i % 2, warm, Cancel));
        }
        var before = await cluster.StatusCountingAsync(0, warm, 6, Cancel);
        var key0Before = before.Counter(0, warm, "attempts");

        cluster.WriteKeyFile($"{cluster.Keys[0]} project=shared\n{cluster.Keys[1]} project=shared\n{cluster.Keys[3]}\n");
        await UntilBothFrontendsServeWithAsync(3, "the swap");

        // the removed key gets no new request, wherever it comes from
        var after = ClusterFixture.NewModel();
        for (var i = 0; i < 12; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(i % 2, after, Cancel));
        }
        Assert.DoesNotContain(2, cluster.KeysSeenFor(after));
        var status = await cluster.StatusAsync(1, Cancel);
        Assert.Equal("removed", status.Key(2).GetProperty("status").GetString());
        Assert.Equal(key0Before, status.Counter(0, warm, "attempts")); // the others keep their state
        Assert.Equal(3, status.Key(3).GetProperty("index").GetInt32());

        cluster.WriteKeyFile(cluster.InitialFile());
        await WaitAsync(async () => (await cluster.StatusAsync(0, Cancel)).Key(2).GetProperty("status").GetString() == "active", ReloadPromise);
        // each frontend reads the file on its own: the pool may lease key 2 before a frontend holds its secret again
        await UntilBothFrontendsServeWithAsync(2, "the file was restored");
    }

    /// <summary>
    /// Sends requests through both frontends, a new model each, until <paramref name="key"/> has served each of them;
    /// fails after <see cref="ReloadPromise"/>.
    /// </summary>
    private async Task UntilBothFrontendsServeWithAsync(int key, string after)
    {
        var started = DateTime.UtcNow;
        var models = new[] { ClusterFixture.NewModel(), ClusterFixture.NewModel() };
        while (!models.All(model => cluster.KeysSeenFor(model).Contains(key)))
        {
            Assert.True(DateTime.UtcNow - started < ReloadPromise, $"key {key} not served through both frontends {ReloadPromise.TotalSeconds} s after {after}\n{cluster.Diagnostics()}");
            for (var frontend = 0; frontend < 2; frontend++)
            {
                Assert.Equal(200, await cluster.GenerateAsync(frontend, models[frontend], Cancel));
            }
            await Task.Delay(100, Cancel);
        }
    }

    [Fact]
    public async Task An_invalid_key_is_probed_once_per_interval_for_the_whole_cluster_and_returns_when_valid()
    {
        var bad = cluster.Keys[2];
        cluster.Upstream.RevokeKey(bad);
        var model = ClusterFixture.NewModel();
        JsonElement status = default;
        await WaitAsync(async () =>
        {
            await cluster.GenerateAsync(0, model, Cancel);
            status = await cluster.StatusAsync(1, Cancel);
            return status.IsInvalid(2);
        }, TimeSpan.FromSeconds(20));
        var since = status.Key(2).GetProperty("invalid").GetProperty("since").GetDateTimeOffset();

        // probes fall due 2 s after the mark, then 4 s after that (doubled): two by 9 s, from 2 silos and 2 frontends
        await Task.Delay(since.AddSeconds(9) - DateTimeOffset.UtcNow, Cancel);
        Assert.Equal(2, Probes(bad));
        status = await cluster.StatusAsync(0, Cancel);
        var probe = status.Key(2).GetProperty("probe");
        Assert.Equal("invalid", probe.GetProperty("lastResult").GetString());
        Assert.True(probe.GetProperty("nextAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.DoesNotContain(bad, (await cluster.StatusAsync(0, Cancel)).GetRawText());

        // the next probe (8 s later) passes: the key is back, and serves
        cluster.Upstream.RestoreKey(bad);
        await WaitAsync(async () => !(await cluster.StatusAsync(1, Cancel)).IsInvalid(2), TimeSpan.FromSeconds(20));
        Assert.Equal(3, Probes(bad));
        var again = ClusterFixture.NewModel();
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(i % 2, again, Cancel));
        }
        Assert.Contains(2, cluster.KeysSeenFor(again));
    }

    [Fact]
    public async Task A_429_on_one_key_through_frontend_A_keeps_its_project_partner_off_the_model_through_frontend_B()
    {
        var model = ClusterFixture.NewModel();
        cluster.Upstream.SetFault(cluster.Keys[0], FakeFault.RateLimitPerMinute(retryDelaySeconds: 60), times: 1);
        for (var i = 0; i < 6 && !cluster.Upstream.Requests.Any(r => r.Model == model && r.Status == 429); i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(0, model, Cancel));
        }
        var seenBefore = cluster.KeysSeenFor(model).Length;
        Assert.Contains(cluster.Upstream.Requests, r => r.Model == model && r.Status == 429 && r.ApiKey == cluster.Keys[0]);

        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(1, model, Cancel));
        }
        var afterwards = cluster.KeysSeenFor(model).Skip(seenBefore).ToArray();
        Assert.True(afterwards.All(key => key == 2), $"project 'shared' served after its 429: {string.Join(",", afterwards)}");
        var onB = await cluster.StatusAsync(1, Cancel);
        Assert.NotNull(onB.CooldownUntil(1, model));
    }

    [Fact]
    public async Task Admin_actions_need_the_admin_token_and_hold_on_both_frontends()
    {
        using (var none = await cluster.Client(0).SendAsync(Admin(HttpMethod.Post, "/admin/keys/2/disable", token: null), Cancel))
        using (var client = await cluster.Client(1).SendAsync(Admin(HttpMethod.Post, "/admin/keys/2/disable", ClusterFixture.Token), Cancel))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, client.StatusCode);
        }

        using (var disabled = await cluster.Client(0).SendAsync(Admin(HttpMethod.Post, "/admin/keys/2/disable"), Cancel))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }
        var model = ClusterFixture.NewModel();
        for (var i = 0; i < 9; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(1, model, Cancel));
        }
        Assert.DoesNotContain(2, cluster.KeysSeenFor(model));

        var fingerprint = (await cluster.StatusAsync(1, Cancel)).Fingerprint(2);
        using (var enabled = await cluster.Client(1).SendAsync(Admin(HttpMethod.Post, $"/admin/keys/{fingerprint}/enable"), Cancel))
        {
            Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        }
        var after = ClusterFixture.NewModel();
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(200, await cluster.GenerateAsync(0, after, Cancel));
        }
        Assert.Contains(2, cluster.KeysSeenFor(after));
    }

    private int Probes(string key) =>
        cluster.Upstream.Requests.Count(r => r.Method == "GET" && r.Path == "/v1beta/models" && r.ApiKey == key);

    private static HttpRequestMessage Admin(HttpMethod method, string path, string? token = KeyFileClusterFixture.AdminToken)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }
        return request;
    }

    private async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {timeout.TotalSeconds} s\n{cluster.Diagnostics()}");
            await Task.Delay(200, Cancel);
        }
    }
}
