using System.Diagnostics;
using System.Text;
using System.Text.Json;
using GeminiParty.FakeGemini;

namespace GeminiParty.Cluster.Tests;

/// <summary>Two frontends whose requests may wait 5 s for a cooling key (MAX_WAIT=5000).</summary>
public sealed class WaitingClusterFixture : ClusterFixture
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?> { ["MAX_WAIT"] = "5000" };
}

[CollectionDefinition(Name)]
public sealed class WaitingCollection : ICollectionFixture<WaitingClusterFixture>
{
    public const string Name = "waiting";
}

/// <summary>
/// When every key cools for a model, requests on every frontend wait in one line in the pool and are served in the
/// order they arrived once keys return.
/// </summary>
[Collection(WaitingCollection.Name)]
public sealed class WaitingLineTests(WaitingClusterFixture cluster)
{
    private const int Requests = 30;

    /// <summary>
    /// How far a request's place in the line may be from its place in the order of arrival: requests 33 ms apart swap
    /// places only when the two pool calls before joining (the lease that found no key, and the join) took longer than
    /// that, which on a loaded 2-core machine running five processes they do (up to ~70 ms seen): 3 places, ~100 ms.
    /// </summary>
    private const int Displacement = 3;

    [Fact]
    public async Task Thirty_requests_on_two_frontends_wait_for_the_cooling_keys_and_are_served_in_arrival_order()
    {
        var model = ClusterFixture.NewModel();
        // the issue's 2 s, plus the second the three 429s and the check after them take on a loaded CI machine: every
        // one of the 30 requests must arrive while all keys still cool
        var cooledAt = await AllKeysCoolingAsync(model, TimeSpan.FromSeconds(3));
        var before = cluster.Upstream.Requests.Count(r => r.Model == model);

        // one request every ~33 ms, alternating frontends: arrivals far apart next to one pool call
        var answers = new List<Task<(int Status, string Timing)>>();
        for (var i = 0; i < Requests; i++)
        {
            answers.Add(SendAsync(i % 2, model, i));
            await Task.Delay(33, TestContext.Current.CancellationToken);
        }
        var served = await Task.WhenAll(answers);
        var elapsed = Stopwatch.GetElapsedTime(cooledAt);

        Assert.All(served, answer => Assert.True(answer.Status == 200, $"{answer.Status}\n{cluster.Diagnostics()}"));
        Assert.All(served, answer => Assert.Contains("wait;dur=", answer.Timing));
        Assert.True(elapsed > TimeSpan.FromSeconds(2.5), $"served after {elapsed}: before the keys came back");
        var sent = cluster.Upstream.Requests.Where(r => r.Model == model).Skip(before).ToArray();
        Assert.Equal(Requests, sent.Length); // one call each: none went upstream while the keys cooled, none was retried
        Assert.All(sent, request => Assert.Equal(200, request.Status));

        // the pool serves its line strictly head first (Grains.Tests: WaitLineTests); the line is in arrival order
        var places = served.Select(answer => Place(answer.Timing)).ToArray();
        for (var i = 0; i < Requests; i++)
        {
            Assert.True(Math.Abs(places[i] - (i + 1)) <= Displacement,
                $"request {i} (frontend-{i % 2 + 1}) joined the line in place {places[i]}: {string.Join(",", places)}");
        }
    }

    [Fact]
    public async Task A_client_that_leaves_the_line_frees_its_place_at_once_and_the_other_is_served()
    {
        var model = ClusterFixture.NewModel();
        await AllKeysCoolingAsync(model, TimeSpan.FromSeconds(4));
        var before = cluster.Upstream.Requests.Count(r => r.Model == model);
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var leaving = cluster.Client(0).SendAsync(Request(model, 0), leave.Token);
        var staying = SendAsync(1, model, 1);
        await WaitForLineAsync(model, 2);

        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);
        var status = await WaitForLineAsync(model, 1);
        Assert.True(status.CooldownUntil(0, model) is not null, "the keys came back before the place was freed");

        Assert.Equal(200, (await staying).Status);
        Assert.Equal(before + 1, cluster.Upstream.Requests.Count(r => r.Model == model)); // the one that left sent nothing
    }

    /// <summary>
    /// Every key of a fresh model answers one 429 with <paramref name="cooldown"/> as its delay, met by one request that
    /// asks for no wait and so gets the 429 at once, as MAX_WAIT=0 gives it. Returns when the keys started cooling.
    /// </summary>
    private async Task<long> AllKeysCoolingAsync(string model, TimeSpan cooldown)
    {
        foreach (var key in cluster.ConfiguredKeys)
        {
            cluster.Upstream.SetFault(key, FakeFault.RateLimitPerMinute((int)cooldown.TotalSeconds), times: 1);
        }
        using var request = Request(model, -1);
        request.Headers.Add("x-gemini-party-max-wait", "0");
        var sent = Stopwatch.GetTimestamp();
        using var response = await cluster.Client(0).SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(429, (int)response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(cluster.ConfiguredKeys.Count, cluster.Upstream.Requests.Count(r => r.Model == model && r.Status == 429));

        // with the keys cooling, a request that may not wait is answered at once too, and sends nothing upstream
        using var again = Request(model, -1);
        again.Headers.Add("x-gemini-party-max-wait", "0");
        using var refused = await cluster.Client(1).SendAsync(again, TestContext.Current.CancellationToken);
        Assert.Equal(429, (int)refused.StatusCode);
        Assert.Equal(cluster.ConfiguredKeys.Count, cluster.Upstream.Requests.Count(r => r.Model == model));
        return sent;
    }

    private async Task<(int Status, string Timing)> SendAsync(int frontend, string model, int number)
    {
        using var response = await cluster.Client(frontend).SendAsync(Request(model, number), TestContext.Current.CancellationToken);
        await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, response.Headers.TryGetValues("Server-Timing", out var timing) ? string.Join(",", timing) : "");
    }

    /// <summary>/rotation-status once the model's line holds <paramref name="waiting"/> requests (within 10 s).</summary>
    private async Task<JsonElement> WaitForLineAsync(string model, int waiting)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var status = await cluster.StatusAsync(1, TestContext.Current.CancellationToken);
            var line = status.GetProperty("data").GetProperty("waiting");
            var now = line.TryGetProperty(model, out var count) ? count.GetInt32() : 0;
            if (now == waiting)
            {
                return status;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the line of {model} holds {now}, not {waiting}: {line}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private static HttpRequestMessage Request(string model, int number)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1beta/models/{model}:generateContent")
        {
            Content = new StringContent($$"""{"contents":[{"parts":[{"text":"request {{number}}"}]}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", ClusterFixture.Token);
        return request;
    }

    /// <summary>The place in the line that <c>Server-Timing: wait;dur=…;desc="place N"</c> reports; 0 without one.</summary>
    private static int Place(string timing)
    {
        var at = timing.IndexOf("desc=\"place ", StringComparison.Ordinal);
        return at < 0 ? 0 : int.Parse(timing[(at + "desc=\"place ".Length)..].TakeWhile(char.IsDigit).ToArray());
    }
}
