using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// A custom voice stored by Google belongs to the key that made it: its get and delete, and every speech synthesis
/// that names it by id, go to that key; the voices list shows each key's custom voices once, then Google's prebuilt
/// catalog once.
/// </summary>
[Collection(FrontendCollection.Name)]
public sealed class VoiceTests(FrontendFixture gateway)
{
    private static readonly string[] Keys = FrontendFixture.Keys;

    private static readonly string[] Catalog = ["Puck", "Charon", "Kore"];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Creates a stored prompted voice; returns its id and the index of the key that made it.</summary>
    private async Task<(string Id, int Owner)> CreateVoiceAsync(string description)
    {
        using var created = await gateway.PostJsonAsync("/v1beta/voices",
            JsonSerializer.Serialize(new { store = true, voice = new { type = "prompted", display_name = description, prompted = new { input = $"A {description} voice." } } }));
        Assert.Equal(200, (int)created.StatusCode);
        var id = (await created.ReadJsonAsync()).GetProperty("id").GetString()!;
        Assert.StartsWith("voice_", id);
        return (id, Array.IndexOf(Keys, gateway.Upstream.Requests.Last(r => r.Path == "/v1beta/voices" && r.Method == "POST").ApiKey));
    }

    private static string Speech(string voice, string text = "Say hello.") =>
        JsonSerializer.Serialize(new
        {
            contents = new[] { new { parts = new[] { new { text } } } },
            generationConfig = new { responseModalities = new[] { "AUDIO" }, speechConfig = new { voiceConfig = new { voice } } },
        });

    [Fact]
    public async Task A_voice_is_got_used_and_deleted_through_the_key_that_made_it_and_forgotten_once_deleted()
    {
        var (id, owner) = await CreateVoiceAsync("warm");
        await gateway.RotationStatusWhenAsync(status => status.KeyStatus(owner).GetProperty("resources").GetProperty("voices").GetInt32() > 0);

        var model = FrontendFixture.NewModel();
        for (var i = 0; i < 2 * Keys.Length; i++)
        {
            using var got = await gateway.GetAsync($"/v1beta/voices/{id}");
            Assert.Equal(200, (int)got.StatusCode);
            Assert.Equal(id, (await got.ReadJsonAsync()).GetProperty("id").GetString());
            using var spoken = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", Speech(id));
            Assert.Equal(200, (int)spoken.StatusCode); // the fake refuses a voice of another key with 403
        }
        Assert.All(gateway.Upstream.Requests.Where(r => r.Path == $"/v1beta/voices/{id}"), request => Assert.Equal(Keys[owner], request.ApiKey));
        Assert.Equal(Enumerable.Repeat(owner, 2 * Keys.Length), gateway.KeysSeenFor(model)); // each once, on its key

        using (var deleted = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Delete, $"/v1beta/voices/{id}"), Cancel))
        {
            Assert.Equal(200, (int)deleted.StatusCode);
        }
        Assert.Equal(Keys[owner], gateway.Upstream.Requests.Last(r => r.Path == $"/v1beta/voices/{id}" && r.Method == "DELETE").ApiKey);

        // forgotten: a later get has no record to follow, so it rotates like any request (one attempt each)
        var before = gateway.Upstream.Requests.Count(r => r.Path == $"/v1beta/voices/{id}");
        for (var i = 0; i < 2 * Keys.Length; i++)
        {
            using var gone = await gateway.GetAsync($"/v1beta/voices/{id}");
            Assert.Equal(403, (int)gone.StatusCode);
        }
        var after = gateway.Upstream.Requests.Where(r => r.Path == $"/v1beta/voices/{id}").Skip(before).ToList();
        Assert.Equal(2 * Keys.Length, after.Count);
        Assert.Contains(after, request => request.ApiKey != Keys[owner]);
    }

    private static string LiveSetup(string model, string voice) =>
        JsonSerializer.Serialize(new
        {
            setup = new
            {
                model = "models/" + model,
                generationConfig = new { responseModalities = new[] { "AUDIO" }, speechConfig = new { voiceConfig = new { voice } } },
            },
        });

    [Fact]
    public async Task A_live_session_whose_setup_names_a_voice_opens_on_the_key_that_made_it()
    {
        var (id, owner) = await CreateVoiceAsync("calm");
        var model = FrontendFixture.NewModel();
        for (var i = 0; i < 2 * Keys.Length; i++)
        {
            await using var client = await LiveTestClient.ConnectAsync(gateway);
            await client.SendAsync(LiveSetup(model, id));
            var first = await client.ReceiveAsync();
            Assert.True(first.CloseStatus is null, $"closed: {first.CloseStatus} {first.CloseDescription}"); // the fake closes 1008 on another key
            Assert.Equal("""{"setupComplete":{}}""", first.Text);
        }
        var sessions = gateway.Upstream.Live.Sessions.Where(session => session.Model == model).ToList();
        Assert.Equal(2 * Keys.Length, sessions.Count); // one attempt each: no key refused it
        Assert.All(sessions, session => Assert.Equal(Keys[owner], session.ApiKey));
    }

    [Fact]
    public async Task A_live_setup_naming_a_voice_the_gateway_has_no_record_of_gets_one_attempt_and_its_refusal_blames_no_key()
    {
        // made straight at upstream with the first key: the gateway never saw it
        using var direct = new HttpClient { BaseAddress = new Uri(gateway.Upstream.BaseAddress) };
        using var make = new HttpRequestMessage(HttpMethod.Post, "/v1beta/voices")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { store = true, voice = new { type = "prompted", prompted = new { input = "A dry voice." } } }),
                Encoding.UTF8, "application/json"),
        };
        make.Headers.Add("x-goog-api-key", Keys[0]);
        using var made = await direct.SendAsync(make, Cancel);
        Assert.Equal(200, (int)made.StatusCode);
        var id = (await made.ReadJsonAsync()).GetProperty("id").GetString()!;

        var model = FrontendFixture.NewModel();
        var refused = 0;
        for (var i = 0; i < 2 * Keys.Length; i++)
        {
            await using var client = await LiveTestClient.ConnectAsync(gateway);
            await client.SendAsync(LiveSetup(model, id));
            var first = await client.ReceiveAsync();
            if (first.CloseStatus is not null)
            {
                Assert.Equal(WebSocketCloseStatus.PolicyViolation, first.CloseStatus); // upstream's own refusal, as it was
                Assert.Contains("permission", first.CloseDescription, StringComparison.OrdinalIgnoreCase);
                refused++;
            }
        }
        Assert.InRange(refused, 1, 2 * Keys.Length - 1); // the sessions rotated, and only the first key's opened
        Assert.Equal(2 * Keys.Length, gateway.Upstream.Live.Sessions.Count(session => session.Model == model)); // one attempt each
        var status = await gateway.RotationStatusAsync();
        for (var key = 0; key < Keys.Length; key++)
        {
            var state = status.KeyStatus(key);
            Assert.Equal(JsonValueKind.Null, state.GetProperty("invalid").ValueKind); // a refused resource is not a refused key
            Assert.DoesNotContain(state.GetProperty("cooldowns").EnumerateArray(), cooldown => cooldown.GetProperty("model").GetString() == model);
        }
    }

    [Fact]
    public async Task Speech_without_a_custom_voice_rotates_and_a_voice_id_in_a_prompt_is_only_text()
    {
        var (id, _) = await CreateVoiceAsync("bright");

        var prebuilt = FrontendFixture.NewModel();
        var prompt = FrontendFixture.NewModel();
        for (var i = 0; i < 2 * Keys.Length; i++)
        {
            using var withPuck = await gateway.PostJsonAsync($"/v1beta/models/{prebuilt}:generateContent", Speech("Puck"));
            Assert.Equal(200, (int)withPuck.StatusCode);
            using var mentioned = await gateway.PostJsonAsync($"/v1beta/models/{prompt}:generateContent", Speech("Kore", $"Read the id {id} aloud."));
            Assert.Equal(200, (int)mentioned.StatusCode);
        }

        Assert.Equal(Keys.Length, gateway.KeysSeenFor(prebuilt).Distinct().Count());
        Assert.Equal(Keys.Length, gateway.KeysSeenFor(prompt).Distinct().Count());
    }

    [Fact]
    public async Task The_list_shows_every_keys_custom_voices_once_then_the_catalog_once_page_by_page()
    {
        var made = new Dictionary<string, int>();
        while (made.Values.Distinct().Count() < 2 || made.Count < 3)
        {
            Assert.True(made.Count < 20, "creates should rotate over the keys");
            var (id, owner) = await CreateVoiceAsync("listed");
            made[id] = owner;
        }
        await gateway.RotationStatusWhenAsync(status => made.Values.GroupBy(key => key)
            .All(owned => status.KeyStatus(owned.Key).GetProperty("resources").GetProperty("voices").GetInt32() >= owned.Count()));

        foreach (var path in new[] { "/v1beta/voices?page_size=2", "/v1beta/voices" })
        {
            var pages = await PagesAsync(path);

            var listed = pages.SelectMany(page => page.TryGetProperty("voices", out var voices) ? voices.EnumerateArray() : []).ToList();
            var ids = listed.Select(voice => voice.GetProperty("id").GetString()!).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count()); // no voice twice, the catalog once
            Assert.Subset(ids.ToHashSet(), made.Keys.ToHashSet()); // every key's custom voices
            Assert.Equal(Catalog, ids.Where(id => !id.StartsWith("voice_", StringComparison.Ordinal)));
            var firstPrebuilt = listed.FindIndex(voice => voice.GetProperty("type").GetString() == "prebuilt");
            Assert.All(listed.Take(firstPrebuilt), voice => Assert.NotEqual("prebuilt", voice.GetProperty("type").GetString()));
            Assert.All(listed.Skip(firstPrebuilt), voice => Assert.Equal("prebuilt", voice.GetProperty("type").GetString()));
            if (path.Contains("page_size", StringComparison.Ordinal))
            {
                Assert.All(pages.SkipLast(1), page => Assert.Equal(2, page.GetProperty("voices").GetArrayLength()));
            }
        }
    }

    /// <summary>Every page of the voices list, following next_page_token (the snake_case paging of Google's voices API).</summary>
    private async Task<List<JsonElement>> PagesAsync(string path)
    {
        var pages = new List<JsonElement>();
        string? token = null;
        do
        {
            var separator = path.Contains('?') ? '&' : '?';
            using var response = await gateway.GetAsync(token is null ? path : $"{path}{separator}page_token={Uri.EscapeDataString(token)}");
            Assert.Equal(200, (int)response.StatusCode);
            var page = await response.ReadJsonAsync();
            pages.Add(page);
            Assert.False(page.TryGetProperty("nextPageToken", out _));
            token = page.TryGetProperty("next_page_token", out var next) ? next.GetString() : null;
            Assert.True(pages.Count < 100, "the list should end");
        }
        while (token is not null);
        return pages;
    }
}
