using System.Text;
using GeminiParty.FakeGemini;

namespace GeminiParty.Cluster.Tests;

/// <summary>
/// Resources across two frontends: an upload whose chunks alternate between them reaches one upstream session and
/// key, and a file made through one frontend is used through the other on the key that made it; lists merge; waits
/// for a cooling owner seen by either frontend are counted under the owner, once each, in the status of both.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ResourceClusterTests(ClusterFixture cluster)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_upload_through_both_frontends_is_one_session_and_its_file_is_used_through_the_other_on_its_key()
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("cluster chapter. ", 1000)));
        var (name, uploadId) = await cluster.UploadAsync(bytes, 4096, start: 0, chunkFrontends: [1, 0], Cancel);

        var session = cluster.KeysSeenAt(uploadId);
        Assert.Equal((bytes.Length + 4095) / 4096, session.Length); // every chunk reached upstream once
        var owner = Assert.Single(session.Distinct());
        var model = ClusterFixture.NewModel();
        for (var i = 0; i < 2 * cluster.ConfiguredKeys.Count; i++)
        {
            Assert.Equal(200, await cluster.GenerateWithFileAsync(i % 2 == 0 ? 1 : 0, model, name, Cancel));
        }
        var (status, file) = await cluster.GetJsonAsync(1, "/v1beta/" + name, Cancel);
        Assert.Equal(200, status);
        Assert.Equal(bytes.Length.ToString(), file.GetProperty("sizeBytes").GetString());

        Assert.All(cluster.KeysSeenFor(model), key => Assert.Equal(owner, key)); // rotation would have spread these
        Assert.All(cluster.KeysSeenAt(name), key => Assert.Equal(owner, key));
        // the list through the other frontend has it, from its key
        var (listed, page) = await cluster.GetJsonAsync(1, "/v1beta/files?pageSize=100", Cancel);
        Assert.Equal(200, listed);
        Assert.Contains(page.GetProperty("files").EnumerateArray(), item => item.GetProperty("name").GetString() == name);
        var counted = await cluster.StatusAsync(0, Cancel);
        Assert.True(counted.Key(owner).GetProperty("resources").GetProperty("files").GetInt32() >= 1, counted.Key(owner).ToString());

        // the finished upload session left no record behind; deleted through the other frontend, the file's record
        // leaves Redis with it
        Assert.DoesNotContain((await cluster.Redis.DumpAsync()).Keys, key => key.Contains(uploadId, StringComparison.Ordinal));
        var id = name["files/".Length..];
        Assert.Contains((await cluster.Redis.DumpAsync()).Keys, key => key.Contains(id, StringComparison.Ordinal));
        Assert.Equal(200, (await cluster.SendJsonAsync(0, HttpMethod.Delete, "/v1beta/" + name, null, Cancel)).Status);
        var left = (await cluster.Redis.DumpAsync()).Where(pair => pair.Key.Contains(id, StringComparison.Ordinal)).ToList();
        Assert.True(left.Count == 0, string.Join("\n", left.Select(pair => $"{pair.Key} = {pair.Value}")));
    }

    [Fact]
    public async Task Waits_for_a_cooling_owner_through_either_frontend_are_counted_once_each_under_it_in_both_statuses()
    {
        var (name, _) = await cluster.UploadAsync(Encoding.UTF8.GetBytes("a file to wait for"), 4096, start: 0, chunkFrontends: [0], Cancel);
        var model = ClusterFixture.NewModel();
        Assert.Equal(200, await cluster.GenerateWithFileAsync(0, model, name, Cancel));
        var owner = Assert.Single(cluster.KeysSeenFor(model));

        // the owner answers 429 with a 1 s retry delay: the request waits for it and succeeds; once through each frontend
        for (var frontend = 0; frontend < 2; frontend++)
        {
            cluster.Upstream.SetFault(cluster.Keys[owner], FakeFault.RateLimitPerMinute(retryDelaySeconds: 1), times: 1);
            Assert.Equal(200, await cluster.GenerateWithFileAsync(frontend, model, name, Cancel));
        }

        Assert.All(cluster.KeysSeenFor(model), key => Assert.Equal(owner, key));
        for (var frontend = 0; frontend < 2; frontend++)
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            long waits;
            while ((waits = WaitsFor(await cluster.StatusAsync(frontend, Cancel), owner, model)) < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, Cancel);
            }
            Assert.Equal(2, waits);
        }
    }

    [Fact]
    public async Task A_conversation_whose_turns_alternate_between_frontends_stays_on_the_key_that_streamed_its_first_turn()
    {
        var model = ClusterFixture.NewModel();
        var (status, _, stream) = await cluster.SendJsonAsync(0, HttpMethod.Post, "/v1beta/interactions",
            $$"""{"model":"{{model}}","input":"Start a story","stream":true}""", Cancel);
        Assert.Equal(200, status);
        var created = System.Text.Json.JsonDocument.Parse(stream.Split('\n').First(line => line.StartsWith("data:", StringComparison.Ordinal))[5..]).RootElement;
        var ids = new List<string> { created.GetProperty("interaction").GetProperty("id").GetString()! };
        var owner = Assert.Single(cluster.KeysSeenFor(model));

        for (var turn = 2; turn <= 2 * cluster.ConfiguredKeys.Count + 1; turn++)
        {
            var (next, answer, _) = await cluster.SendJsonAsync(turn % 2, HttpMethod.Post, "/v1beta/interactions",
                $$"""{"model":"{{model}}","input":"go on","previous_interaction_id":"{{ids[^1]}}"}""", Cancel);
            Assert.Equal(200, next);
            Assert.StartsWith($"Turn {turn} of the conversation.", answer.GetProperty("steps")[0].GetProperty("content")[0].GetProperty("text").GetString());
            ids.Add(answer.GetProperty("id").GetString()!);
        }
        var (got, first) = await cluster.GetJsonAsync(1, $"/v1beta/interactions/{ids[0]}", Cancel);
        Assert.Equal(200, got);
        Assert.Equal(ids[0], first.GetProperty("id").GetString());
        Assert.Equal(200, (await cluster.SendJsonAsync(0, HttpMethod.Delete, $"/v1beta/interactions/{ids[^1]}", null, Cancel)).Status);

        Assert.All(cluster.KeysSeenFor(model), key => Assert.Equal(owner, key)); // rotation would have spread the turns
        Assert.All(ids, id => Assert.All(cluster.KeysSeenAt(id), key => Assert.Equal(owner, key)));

        // each record is in Redis with an expiry of its own, a little past the binding's 55 days, and compact; the
        // deleted interaction's record is gone
        var stored = await cluster.Redis.DumpAsync();
        foreach (var id in ids[..^1])
        {
            var record = Assert.Single(stored.Keys, key => key.Contains(id, StringComparison.Ordinal));
            var seconds = await cluster.Redis.SecondsToLiveAsync(record);
            Assert.InRange(seconds, (long)TimeSpan.FromDays(55).TotalSeconds, (long)TimeSpan.FromDays(56).TotalSeconds);
            Assert.DoesNotContain("GeminiParty.ResourceRecord", stored[record]); // Orleans' binary format, not JSON with type names
        }
        Assert.DoesNotContain(stored.Keys, key => key.Contains(ids[^1], StringComparison.Ordinal));
        // each turn, the get and the delete once: no key refused one and another retried it
        Assert.Equal(ids.Count + 2, cluster.KeysSeenFor(model).Length);
    }

    private static long WaitsFor(System.Text.Json.JsonElement status, int key, string model) =>
        status.Key(key).GetProperty("models").TryGetProperty(model, out var counters) ? counters.GetProperty("affinityWaits").GetInt64() : 0;
}
