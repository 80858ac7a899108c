using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace GeminiParty.Cluster.Tests;

/// <summary>A named client's limits hold for the cluster, whatever frontend a request goes through; its usage outlives the cluster.</summary>
[Collection(ClientsClusterCollection.Name)]
public sealed class ClientLimitsTests(ClientsClusterFixture cluster)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_30_rpm_client_sending_100_over_two_frontends_gets_exactly_30_through_and_the_window_resets()
    {
        await cluster.EnsureRunningAsync();
        var model = ClusterFixture.NewModel();
        var answers = new List<(int Status, TimeSpan? RetryAfter)>();
        var started = Stopwatch.StartNew();
        var firstFree = TimeSpan.MaxValue; // on `started`'s clock: when the earliest refusal said to come back
        // ten clients at a time, alternating frontends: as fast as the machine allows
        foreach (var wave in Enumerable.Range(0, 100).Chunk(10))
        {
            var results = await Task.WhenAll(wave.Select(i => SendAsync(i % 2, model, "thirty-secret-token")));
            answers.AddRange(results);
            foreach (var retry in results.Select(r => r.RetryAfter).OfType<TimeSpan>())
            {
                firstFree = retry + started.Elapsed < firstFree ? retry + started.Elapsed : firstFree;
            }
        }
        var elapsed = started.Elapsed;

        Assert.True(answers.Count(a => a.Status == 200) == 30, $"{string.Join(",", answers.Select(a => a.Status))}\n{cluster.Diagnostics()}");
        Assert.Equal(70, answers.Count(a => a.Status == 429));
        Assert.All(answers.Where(a => a.Status == 429), a => Assert.True(a.RetryAfter is { } delay && delay > TimeSpan.Zero && delay <= TimeSpan.FromSeconds(60)));
        Assert.Equal(30, cluster.Upstream.Requests.Count(r => r.Model == model));
        Assert.True(elapsed < TimeSpan.FromSeconds(50), $"the burst took {elapsed}: too slow to test a minute window");

        // the window slides: once the first admitted requests are a minute old, the client gets through again
        var untilFree = firstFree - TimeSpan.FromSeconds(2) - started.Elapsed;
        if (untilFree > TimeSpan.Zero)
        {
            await Task.Delay(untilFree, Cancel);
        }
        var deadline = DateTime.UtcNow.AddSeconds(70);
        int status;
        while ((status = (await SendAsync(1, model, "thirty-secret-token")).Status) == 429 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500, Cancel);
        }
        Assert.Equal(200, status);
        Assert.Equal(31, cluster.Upstream.Requests.Count(r => r.Model == model));
    }

    [Fact]
    public async Task A_token_removed_from_the_file_is_refused_by_both_frontends_within_seconds()
    {
        await cluster.EnsureRunningAsync();
        var model = ClusterFixture.NewModel();
        Assert.Equal(200, (await SendAsync(0, model, "leaving-secret-token")).Status);
        Assert.Equal(200, (await SendAsync(1, model, "leaving-secret-token")).Status);

        await File.WriteAllTextAsync(cluster.ClientsPath, string.Join('\n', ClientsClusterFixture.Clients.Split('\n').Where(line => !line.StartsWith("leaving"))), Cancel);
        var revoked = Stopwatch.StartNew();
        foreach (var frontend in new[] { 0, 1 })
        {
            while ((await SendAsync(frontend, model, "leaving-secret-token")).Status != 401)
            {
                Assert.True(revoked.Elapsed < TimeSpan.FromSeconds(15), $"frontend-{frontend + 1} still accepts the revoked token\n{cluster.Diagnostics()}");
                await Task.Delay(200, Cancel);
            }
        }
        Assert.Equal(200, (await SendAsync(0, model, "steady-secret-token")).Status);
        Assert.Equal(200, (await SendAsync(1, model, "steady-secret-token")).Status);
        await File.WriteAllTextAsync(cluster.ClientsPath, ClientsClusterFixture.Clients, Cancel);
    }

    [Fact]
    public async Task Usage_is_the_same_on_both_frontends_and_survives_a_full_cluster_restart()
    {
        await cluster.EnsureRunningAsync();
        var model = ClusterFixture.NewModel();
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(200, (await SendAsync(i % 2, model, "steady-secret-token")).Status);
        }
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (Requests(await UsageAsync(0, "steady-secret-token"), model) < 6 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, Cancel);
        }
        var before = await UsageAsync(1, "steady-secret-token");
        Assert.Equal(6, Requests(before, model));
        Assert.Equal(["steady"], before.GetProperty("clients").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToArray());
        var tokens = Model(before, model).GetProperty("totalTokens").GetInt64();
        Assert.True(tokens > 0);

        await cluster.StopAllAsync();
        await cluster.EnsureRunningAsync();

        var after = await UsageAsync(0, ClientsClusterFixture.AdminToken);
        Assert.Equal(6, Requests(after, model));
        Assert.Equal(tokens, Model(after, model).GetProperty("totalTokens").GetInt64());
        Assert.Contains("thirty", after.GetRawText());
    }

    [Fact]
    public async Task A_Live_session_through_one_frontend_holds_the_clients_only_slot_on_both_until_it_closes()
    {
        await cluster.EnsureRunningAsync();
        var model = ClusterFixture.NewModel();
        using var session = LiveSocket("single-secret-token");
        await session.ConnectAsync(LiveUri(0), Cancel);
        var setup = JsonSerializer.SerializeToUtf8Bytes(new { setup = new { model = "models/" + model } });
        await session.SendAsync(setup, WebSocketMessageType.Text, endOfMessage: true, Cancel);
        Assert.Equal("""{"setupComplete":{}}""", await ReceiveTextAsync(session));

        // the slot is the client's in the cluster: the other frontend refuses both an HTTP request and a session
        var (status, retryAfter) = await SendAsync(1, model, "single-secret-token");
        Assert.True(status == 429, $"frontend-2 answered {status} while the session held the only slot\n{cluster.Diagnostics()}");
        Assert.NotNull(retryAfter);
        using var second = LiveSocket("single-secret-token");
        await Assert.ThrowsAnyAsync<WebSocketException>(() => second.ConnectAsync(LiveUri(1), Cancel));
        Assert.Equal(HttpStatusCode.TooManyRequests, second.HttpStatusCode);
        Assert.Single(cluster.Upstream.Live.Sessions, s => s.Model == model);

        await session.CloseAsync(WebSocketCloseStatus.NormalClosure, null, Cancel);
        var closed = Stopwatch.StartNew();
        while ((status = (await SendAsync(1, model, "single-secret-token")).Status) == 429)
        {
            Assert.True(closed.Elapsed < TimeSpan.FromSeconds(15), $"the closed session's slot was not given back\n{cluster.Diagnostics()}");
            await Task.Delay(200, Cancel);
        }
        Assert.Equal(200, status);
    }

    private static ClientWebSocket LiveSocket(string token)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("x-goog-api-key", token);
        return socket;
    }

    private Uri LiveUri(int frontend) =>
        new UriBuilder(cluster.Client(frontend).BaseAddress!) { Scheme = "ws", Path = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent" }.Uri;

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        limit.CancelAfter(TimeSpan.FromSeconds(15));
        var buffer = new byte[64 * 1024];
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), limit.Token);
            length += result.Count;
            if (result.MessageType == WebSocketMessageType.Close || result.EndOfMessage)
            {
                return result.MessageType == WebSocketMessageType.Close ? $"close {(int?)socket.CloseStatus} {socket.CloseStatusDescription}" : Encoding.UTF8.GetString(buffer, 0, length);
            }
        }
    }

    private async Task<(int Status, TimeSpan? RetryAfter)> SendAsync(int frontend, string model, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1beta/models/{model}:generateContent")
        {
            Content = new StringContent("""{"contents":[{"parts":[{"text":"hello clients"}]}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", token);
        using var response = await cluster.Client(frontend).SendAsync(request, Cancel);
        await response.Content.ReadAsByteArrayAsync(Cancel);
        return ((int)response.StatusCode, response.Headers.RetryAfter?.Delta);
    }

    private async Task<JsonElement> UsageAsync(int frontend, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/usage");
        request.Headers.Authorization = new("Bearer", token);
        using var response = await cluster.Client(frontend).SendAsync(request, Cancel);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/usage on frontend-{frontend + 1}: {(int)response.StatusCode} {body}\n{cluster.Diagnostics()}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static JsonElement Model(JsonElement usage, string model) =>
        usage.GetProperty("clients").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "steady")
            .GetProperty("days").EnumerateArray().Last().GetProperty("models").GetProperty(model);

    private static long Requests(JsonElement usage, string model) =>
        usage.GetProperty("clients").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "steady")
            .GetProperty("days").EnumerateArray().Last().GetProperty("models").TryGetProperty(model, out var counts)
            ? counts.GetProperty("requests").GetInt64()
            : 0;
}
