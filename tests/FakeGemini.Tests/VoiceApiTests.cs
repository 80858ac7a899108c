using System.Text;
using System.Text.Json;

namespace GeminiParty.FakeGemini.Tests;

/// <summary>The fake's custom voices: stored under a <c>voice_</c> id and refused to other keys, listed before the catalog.</summary>
public sealed class VoiceApiTests
{
    private const string Owner = "AIzaVoiceOwnerKey";
    private const string Other = "AIzaVoiceOtherKey";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HttpRequestMessage Send(HttpMethod method, string path, string key, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        request.Headers.Add("x-goog-api-key", key);
        return request;
    }

    private static async Task<string> CreateAsync(HttpClient http, string key)
    {
        using var created = await http.SendAsync(Send(HttpMethod.Post, "/v1beta/voices", key,
            """{"store":true,"voice":{"type":"prompted","prompted":{"input":"A calm voice."}}}"""), Ct);
        var voice = await created.ReadJsonAsync(Ct);
        Assert.Equal("prompted", voice.GetProperty("type").GetString());
        Assert.True(voice.TryGetProperty("expire_time", out _));
        return voice.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task A_stored_voice_is_its_keys_alone_in_get_delete_and_speech()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var id = await CreateAsync(http, Owner);
        var speech = """{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"speechConfig":{"voiceConfig":{"voice":"ID"}}}}""".Replace("ID", id);

        using var mine = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Owner, speech), Ct);
        using var theirs = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", Other, speech), Ct);
        using var get = await http.SendAsync(Send(HttpMethod.Get, "/v1beta/voices/" + id, Other), Ct);
        using var delete = await http.SendAsync(Send(HttpMethod.Delete, "/v1beta/voices/" + id, Other), Ct);
        using var own = await http.SendAsync(Send(HttpMethod.Get, "/v1beta/voices/" + id, Owner), Ct);

        Assert.Equal(200, (int)mine.StatusCode);
        Assert.Equal(403, (int)theirs.StatusCode);
        Assert.Equal(403, (int)get.StatusCode);
        Assert.Equal(403, (int)delete.StatusCode);
        Assert.Equal(id, (await own.ReadJsonAsync(Ct)).GetProperty("id").GetString());
    }

    [Fact]
    public async Task An_unstored_voice_is_a_client_held_key_and_a_prompted_one_must_be_stored()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var replicated = await http.SendAsync(Send(HttpMethod.Post, "/v1beta/voices", Owner,
            """{"store":false,"voice":{"type":"replicated","replicated":{}}}"""), Ct);
        using var prompted = await http.SendAsync(Send(HttpMethod.Post, "/v1beta/voices", Owner,
            """{"voice":{"type":"prompted","prompted":{"input":"x"}}}"""), Ct);

        var voice = await replicated.ReadJsonAsync(Ct);
        Assert.StartsWith("voicekey_", voice.GetProperty("key").GetString());
        Assert.False(voice.TryGetProperty("id", out _));
        Assert.Equal(400, (int)prompted.StatusCode);
    }

    [Fact]
    public async Task The_list_is_the_keys_voices_newest_first_then_the_catalog_in_pages()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var first = await CreateAsync(http, Owner);
        await Task.Delay(20, Ct); // newest first needs two creation times
        var second = await CreateAsync(http, Owner);

        var ids = new List<string>();
        string? token = null;
        do
        {
            using var listed = await http.SendAsync(Send(HttpMethod.Get,
                "/v1beta/voices?page_size=2" + (token is null ? "" : "&page_token=" + Uri.EscapeDataString(token)), Owner), Ct);
            var page = await listed.ReadJsonAsync(Ct);
            ids.AddRange(page.GetProperty("voices").EnumerateArray().Select(voice => voice.GetProperty("id").GetString()!));
            token = page.TryGetProperty("next_page_token", out var next) ? next.GetString() : null;
        }
        while (token is not null && ids.Count < 20);
        using var foreign = await http.SendAsync(Send(HttpMethod.Get, "/v1beta/voices", Other), Ct);

        Assert.Equal([second, first, "Puck", "Charon", "Kore"], ids);
        Assert.Equal(["Puck", "Charon", "Kore"], (await foreign.ReadJsonAsync(Ct)).GetProperty("voices").EnumerateArray()
            .Select(voice => voice.GetProperty("id").GetString()!));
    }
}
