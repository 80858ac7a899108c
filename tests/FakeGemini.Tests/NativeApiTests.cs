using System.Net;
using System.Text.Json;

namespace GeminiParty.FakeGemini.Tests;

public sealed class NativeApiTests
{
    private const string Key = "AIzaNativeTestKey";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GenerateContent_answers_like_gemini_and_never_echoes_the_key()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var response = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(Key, text);
        var body = JsonDocument.Parse(text).RootElement;
        var candidate = body.GetProperty("candidates")[0];
        Assert.Equal("STOP", candidate.GetProperty("finishReason").GetString());
        Assert.Equal("model", candidate.GetProperty("content").GetProperty("role").GetString());
        Assert.False(string.IsNullOrEmpty(candidate.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString()));
        var usage = body.GetProperty("usageMetadata");
        Assert.Equal(
            usage.GetProperty("promptTokenCount").GetInt32() + usage.GetProperty("candidatesTokenCount").GetInt32(),
            usage.GetProperty("totalTokenCount").GetInt32());
        var recorded = Assert.Single(fake.Requests);
        Assert.Equal(("native", "gemini-2.0-flash", Key, 200), (recorded.Surface, recorded.Model, recorded.ApiKey, recorded.Status));
    }

    [Fact]
    public async Task Answers_weigh_what_real_ones_do_when_benchmarks_ask_for_it()
    {
        var options = FakeGeminiOptions.FromEnvironment(name => name switch
        {
            "FAKE_GEMINI_STREAM_EVENTS" => "5",
            "FAKE_GEMINI_PIECE_CHARS" => "60",
            _ => null,
        });
        await using var fake = await FakeGeminiServer.StartAsync(options, Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var whole = await http.SendAsync(GeminiCalls.Native("gemini-2.5-flash", "generateContent", Key), Ct);
        var body = await whole.Content.ReadAsByteArrayAsync(Ct);
        using var stream = await http.SendAsync(GeminiCalls.Native("gemini-2.5-flash", "streamGenerateContent", Key, query: "?alt=sse"), Ct);
        var events = (await stream.Content.ReadAsStringAsync(Ct)).Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries);

        var text = JsonDocument.Parse(body).RootElement.GetProperty("candidates")[0].GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString();
        Assert.Equal(5 * 60, text!.Length);
        Assert.InRange(body.Length, 500, 800);
        Assert.Equal(5, events.Length);
        Assert.All(events, e => Assert.Equal(60, JsonDocument.Parse(e["data: ".Length..]).RootElement
            .GetProperty("candidates")[0].GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString()!.Length));
        Assert.Contains("usageMetadata", events[^1]);
    }

    [Fact]
    public async Task Sse_events_arrive_one_at_a_time()
    {
        await using var fake = await FakeGeminiServer.StartAsync(new FakeGeminiOptions { HoldStreamsAfterFirstEvent = true }, Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var response = await http.SendAsync(
            GeminiCalls.Native("models/gemini-2.0-flash", "streamGenerateContent", Key, query: "?alt=sse"),
            HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new EventReader(await response.Content.ReadAsStreamAsync(Ct), "\r\n\r\n");

        var first = await events.ReadAsync(Ct);
        Assert.StartsWith("data: {", first);
        // The client holds event one while the server is parked before event two: they travelled separately. The stream
        // counts as held before its first event leaves, so a client that has the event finds it counted without waiting.
        Assert.Equal(1, fake.HeldStreams);

        fake.ReleaseStreams();
        var rest = new List<string>();
        while (await events.ReadAsync(Ct) is { } next)
        {
            rest.Add(next);
        }

        Assert.Equal(2, rest.Count);
        var last = JsonDocument.Parse(rest[^1]["data: ".Length..]).RootElement;
        Assert.Equal("STOP", last.GetProperty("candidates")[0].GetProperty("finishReason").GetString());
        Assert.True(last.TryGetProperty("usageMetadata", out _));
        var firstEvent = JsonDocument.Parse(first!["data: ".Length..]).RootElement;
        Assert.False(firstEvent.GetProperty("candidates")[0].TryGetProperty("finishReason", out _));
    }

    [Fact]
    public async Task Stream_without_alt_sse_is_one_json_array()
    {
        await using var fake = await FakeGeminiServer.StartAsync(new FakeGeminiOptions { StreamEvents = 4 }, Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var response = await http.SendAsync(GeminiCalls.Native("gemini-2.5-pro", "streamGenerateContent", Key), Ct);
        var body = await response.ReadJsonAsync(Ct);

        Assert.Equal(JsonValueKind.Array, body.ValueKind);
        Assert.Equal(4, body.GetArrayLength());
        Assert.True(body[3].TryGetProperty("usageMetadata", out _));
    }

    [Fact]
    public async Task Model_list_pages_with_next_page_token()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        var names = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var query = "/v1beta/models?pageSize=2" + (token is null ? "" : "&pageToken=" + Uri.EscapeDataString(token));
            using var response = await http.SendAsync(GeminiCalls.NativeGet(query, Key), Ct);
            var page = await response.ReadJsonAsync(Ct);
            names.AddRange(page.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()!));
            token = page.TryGetProperty("nextPageToken", out var next) ? next.GetString() : null;
            pages++;
        }
        while (token is not null && pages < 20);

        Assert.True(pages > 1);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Contains("models/gemini-2.0-flash", names);
        Assert.Contains("models/gemini-2.5-pro", names);
        Assert.Contains("models/text-embedding-004", names);
    }

    [Fact]
    public async Task Unknown_model_is_not_found_and_malformed_json_is_invalid_argument()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var unknown = await http.SendAsync(GeminiCalls.Native("unknown-model", "generateContent", Key), Ct);
        using var malformed = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Key, body: "{\"contents\": ["), Ct);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("NOT_FOUND", (await unknown.ReadJsonAsync(Ct)).GetProperty("error").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("INVALID_ARGUMENT", (await malformed.ReadJsonAsync(Ct)).GetProperty("error").GetProperty("status").GetString());
    }
}
