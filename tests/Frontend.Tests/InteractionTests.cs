using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// Google's Interactions API through the gateway: a create rotates like a generate call; the interaction it makes lives
/// in its key's project, so every later turn, get, cancel and delete of it goes to that key.
/// </summary>
[Collection(FrontendCollection.Name)]
public sealed class InteractionTests(FrontendFixture gateway)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_conversation_stays_on_the_key_that_made_it_through_every_turn_get_and_delete()
    {
        var model = FrontendFixture.NewModel();
        var first = await CreateAsync($$"""{"model":"{{model}}","input":"Hello there"}""");
        var owner = gateway.Upstream.Requests.Single(r => r.Model == model).ApiKey;
        Assert.Equal("completed", first.GetProperty("status").GetString());

        // more turns than keys: rotation would have moved some of them, and the fake answers 403 to another key
        var ids = new List<string> { Id(first) };
        for (var turn = 2; turn <= 2 * FrontendFixture.Keys.Length + 1; turn++)
        {
            var next = await CreateAsync($$"""{"model":"{{model}}","input":"and then?","previous_interaction_id":"{{ids[^1]}}"}""");
            Assert.StartsWith($"Turn {turn} of the conversation.", Text(next));
            ids.Add(Id(next));
        }

        using (var got = await gateway.GetAsync($"/v1beta/interactions/{ids[0]}"))
        {
            Assert.Equal(200, (int)got.StatusCode);
            Assert.Equal(ids[0], Id(await got.ReadJsonAsync()));
        }
        using (var deleted = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Delete, $"/v1beta/interactions/{ids[0]}"), Cancel))
        {
            Assert.Equal(200, (int)deleted.StatusCode);
        }

        var seen = gateway.Upstream.Requests.Where(r => r.Model == model || ids.Any(id => r.Path.Contains(id, StringComparison.Ordinal))).ToList();
        Assert.Equal(ids.Count + 2, seen.Count); // every call once: nothing was refused by another key and retried
        Assert.All(seen, request => Assert.Equal(owner, request.ApiKey));

        // a deleted interaction is forgotten: asked for again, it is Google's 404 from whichever key, and no key is blamed
        using (var gone = await gateway.GetAsync($"/v1beta/interactions/{ids[0]}"))
        {
            await gone.AssertGoogleErrorAsync(404);
        }
        await AssertNoKeyBlamedAsync();
    }

    [Theory]
    [InlineData("model")]
    [InlineData("agent")]
    public async Task New_interactions_rotate_over_the_keys_under_their_model_or_agent(string field)
    {
        var name = FrontendFixture.NewModel();
        for (var i = 0; i < FrontendFixture.Keys.Length; i++)
        {
            await CreateAsync($$"""{"{{field}}":"{{name}}","input":"one more"}""");
        }
        Assert.Equal([0, 1, 2], gateway.KeysSeenFor(name).Order());
    }

    [Fact]
    public async Task A_streamed_interaction_arrives_event_by_event_is_bound_by_its_first_event_and_its_tokens_are_counted()
    {
        var model = FrontendFixture.NewModel();
        gateway.Upstream.Options.HoldStreamsAfterFirstEvent = true;
        HttpResponseMessage response;
        List<string> events;
        try
        {
            using var request = gateway.Request(HttpMethod.Post, "/v1beta/interactions", $$"""{"model":"{{model}}","input":"Tell me a story","stream":true}""");
            response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel);
            Assert.Equal(200, (int)response.StatusCode);
            Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType?.ToString());
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel), Encoding.UTF8);
            // upstream holds the rest of its stream: the first event reaches the client anyway
            var created = await ReadEventAsync(reader).WaitAsync(TimeSpan.FromSeconds(10), Cancel);
            Assert.Equal("interaction.created", created.GetProperty("event_type").GetString());
            events = ["interaction.created"];
            var id = created.GetProperty("interaction").GetProperty("id").GetString()!;

            gateway.Upstream.ReleaseStreams();
            JsonElement last = default;
            while (await ReadEventAsync(reader) is { ValueKind: JsonValueKind.Object } next)
            {
                events.Add(next.GetProperty("event_type").GetString()!);
                last = next;
            }
            Assert.Equal("interaction.completed", events[^1]);
            Assert.Equal("step.start", events[1]);
            Assert.Contains("step.delta", events);
            var usage = last.GetProperty("interaction").GetProperty("usage");

            // the stream's interaction is bound: its next turn goes to the key that streamed it
            var next2 = await CreateAsync($$"""{"model":"{{model}}","input":"go on","previous_interaction_id":"{{id}}"}""");
            Assert.StartsWith("Turn 2 of the conversation.", Text(next2));
            Assert.Single(gateway.Upstream.Requests.Where(r => r.Model == model).Select(r => r.ApiKey).Distinct());

            var counted = await gateway.RotationStatusWhenAsync(status => Counters(status, model).Sum(c => c.GetProperty("successes").GetInt64()) == 2);
            var first = usage.GetProperty("total_input_tokens").GetInt64() + next2.GetProperty("usage").GetProperty("total_input_tokens").GetInt64();
            var output = usage.GetProperty("total_output_tokens").GetInt64() + next2.GetProperty("usage").GetProperty("total_output_tokens").GetInt64();
            Assert.Equal(first, Counters(counted, model).Sum(c => c.GetProperty("promptTokens").GetInt64()));
            Assert.Equal(output, Counters(counted, model).Sum(c => c.GetProperty("candidatesTokens").GetInt64()));
        }
        finally
        {
            gateway.Upstream.Options.HoldStreamsAfterFirstEvent = false;
            gateway.Upstream.ReleaseStreams();
        }
        response.Dispose();
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v1alpha")]
    public async Task Interactions_are_served_under_every_native_version_not_taken_by_the_OpenAI_paths(string version)
    {
        var model = FrontendFixture.NewModel();
        using var created = await gateway.PostJsonAsync($"/{version}/interactions", $$"""{"model":"{{model}}","input":"hi"}""");
        Assert.Equal(200, (int)created.StatusCode);
        var id = Id(await created.ReadJsonAsync());
        using var got = await gateway.GetAsync($"/{version}/interactions/{id}");
        Assert.Equal(200, (int)got.StatusCode);
        Assert.Equal([$"/{version}/interactions", $"/{version}/interactions/{id}"],
            gateway.Upstream.Requests.Where(r => r.Model == model).Select(r => r.Path));
        Assert.Single(gateway.Upstream.Requests.Where(r => r.Model == model).Select(r => r.ApiKey).Distinct());
    }

    [Fact]
    public async Task A_streamed_interaction_that_breaks_off_ends_with_the_Interactions_APIs_error_event_and_no_second_generation()
    {
        var model = FrontendFixture.NewModel();
        foreach (var key in FrontendFixture.Keys)
        {
            gateway.Upstream.SetFault(key, FakeGemini.FakeFault.MidStreamFailure, times: 1);
        }
        try
        {
            using var response = await gateway.PostJsonAsync("/v1beta/interactions", $$"""{"model":"{{model}}","input":"Tell me a story","stream":true}""");

            Assert.Equal(200, (int)response.StatusCode);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel), Encoding.UTF8);
            var events = new List<JsonElement>();
            while (await ReadEventAsync(reader) is { ValueKind: JsonValueKind.Object } next)
            {
                events.Add(next);
            }
            Assert.Equal("interaction.created", events[0].GetProperty("event_type").GetString());
            var last = events[^1];
            Assert.Equal("error", last.GetProperty("event_type").GetString()); // what the SDK hands its caller as a failure
            Assert.Contains("broke off", last.GetProperty("error").GetProperty("message").GetString());
            Assert.Single(gateway.Upstream.Requests, r => r.Model == model); // never spliced with another key's generation
            await AssertNoKeyBlamedAsync();
        }
        finally
        {
            gateway.Upstream.ClearFaults();
        }
    }

    [Fact]
    public async Task A_background_interaction_is_polled_and_cancelled_on_its_key()
    {
        var model = FrontendFixture.NewModel();
        var polled = await CreateAsync($$"""{"model":"{{model}}","input":"think long","background":true}""");
        var cancelled = await CreateAsync($$"""{"model":"{{model}}","input":"think longer","background":true}""");
        Assert.Equal("in_progress", polled.GetProperty("status").GetString());

        string status;
        do
        {
            using var got = await gateway.GetAsync($"/v1beta/interactions/{Id(polled)}");
            Assert.Equal(200, (int)got.StatusCode);
            status = (await got.ReadJsonAsync()).GetProperty("status").GetString()!;
        }
        while (status == "in_progress");
        Assert.Equal("completed", status);

        using var cancel = await gateway.PostJsonAsync($"/v1beta/interactions/{Id(cancelled)}/cancel", "{}");
        Assert.Equal(200, (int)cancel.StatusCode);
        Assert.Equal("cancelled", (await cancel.ReadJsonAsync()).GetProperty("status").GetString());

        foreach (var id in new[] { Id(polled), Id(cancelled) })
        {
            var calls = gateway.Upstream.Requests.Where(r => r.Path.Contains(id, StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(calls);
            var created = gateway.Upstream.Requests.Where(r => r.Model == model).ToList();
            Assert.All(calls, call => Assert.Equal(call.Path.Contains(Id(polled)) ? created[0].ApiKey : created[1].ApiKey, call.ApiKey));
            Assert.All(calls, call => Assert.Equal(200, call.Status));
        }
    }

    [Fact]
    public async Task An_interaction_the_gateway_has_no_record_of_gets_one_attempt_no_key_is_blamed_for_its_403_and_its_owners_answer_binds_it()
    {
        // made straight at upstream with the first key, so the gateway never saw them
        using var direct = new HttpClient { BaseAddress = new Uri(gateway.Upstream.BaseAddress) };
        var ids = new List<string>();
        for (var i = 0; i < FrontendFixture.Keys.Length; i++)
        {
            using var make = new HttpRequestMessage(HttpMethod.Post, "/v1beta/interactions")
            {
                Content = new StringContent("""{"model":"gemini-2.5-flash","input":"made elsewhere"}""", Encoding.UTF8, "application/json"),
            };
            make.Headers.Add("x-goog-api-key", FrontendFixture.Keys[0]);
            using var made = await direct.SendAsync(make, Cancel);
            Assert.Equal(200, (int)made.StatusCode);
            ids.Add(Id(await made.ReadJsonAsync()));
        }

        // one get of each: they rotate over the keys, and only the first key's project can see them
        var found = new List<string>();
        foreach (var id in ids)
        {
            using var got = await gateway.GetAsync($"/v1beta/interactions/{id}");
            if (got.StatusCode == System.Net.HttpStatusCode.OK)
            {
                found.Add(id);
                continue;
            }
            var error = await got.AssertGoogleErrorAsync(403);
            Assert.Equal("PERMISSION_DENIED", error.GetProperty("status").GetString());
        }
        Assert.InRange(found.Count, 0, ids.Count - 1); // rotation reached another key, whose project cannot see them
        Assert.All(ids, id => Assert.Single(gateway.Upstream.Requests, r => r.Path.Contains(id, StringComparison.Ordinal))); // one attempt each
        await AssertNoKeyBlamedAsync();

        // the owner's answer is a record: that interaction's next requests go to it
        foreach (var id in found)
        {
            for (var i = 0; i < FrontendFixture.Keys.Length; i++)
            {
                using var again = await gateway.GetAsync($"/v1beta/interactions/{id}");
                Assert.Equal(200, (int)again.StatusCode);
            }
            Assert.All(gateway.Upstream.Requests.Where(r => r.Path.Contains(id, StringComparison.Ordinal)),
                r => Assert.Equal(FrontendFixture.Keys[0], r.ApiKey));
        }
    }

    [Theory]
    [InlineData("""{"input":"no model"}""", "needs a 'model'")]
    [InlineData("""{"model":"bad model!","input":"x"}""", "Invalid 'model'")]
    [InlineData("""{"agent":"../agents","input":"x"}""", "Invalid 'agent'")]
    [InlineData("""{"model":"gemini-2.5-flash","input":"x","previous_interaction_id":"a/../b"}""", "Invalid previous_interaction_id")]
    [InlineData("""{"model":"gemini-2.5-flash","input":""", "not valid JSON")]
    [InlineData("[1,2]", "must be a JSON object")]
    public async Task A_malformed_create_gets_a_clear_400_and_reaches_no_key(string body, string message)
    {
        var before = gateway.Upstream.TotalRequests;
        using var response = await gateway.PostJsonAsync("/v1beta/interactions", body);
        var error = await response.AssertGoogleErrorAsync(400);
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Equal(before, gateway.Upstream.TotalRequests);
    }

    [Fact]
    public async Task Interactions_need_a_client_token()
    {
        using var response = await gateway.PostJsonAsync("/v1beta/interactions", """{"model":"gemini-2.5-flash","input":"hi"}""", token: null);
        await response.AssertGoogleErrorAsync(401);
        using var get = await gateway.GetAsync("/v1beta/interactions/v1_abc", token: null);
        await get.AssertGoogleErrorAsync(401);
    }

    private async Task<JsonElement> CreateAsync(string body)
    {
        using var response = await gateway.PostJsonAsync("/v1beta/interactions", body);
        Assert.Equal(200, (int)response.StatusCode);
        return await response.ReadJsonAsync();
    }

    private static string Id(JsonElement interaction) => interaction.GetProperty("id").GetString()!;

    private static string Text(JsonElement interaction) =>
        interaction.GetProperty("steps").EnumerateArray().Last(step => step.GetProperty("type").GetString() == "model_output")
            .GetProperty("content")[0].GetProperty("text").GetString()!;

    /// <summary>The next event's JSON, or default at the end of the stream.</summary>
    private static async Task<JsonElement> ReadEventAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync(Cancel) is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                return JsonDocument.Parse(line[5..]).RootElement.Clone();
            }
        }
        return default;
    }

    private static IEnumerable<JsonElement> Counters(JsonElement status, string model) =>
        status.GetProperty("data").GetProperty("keys").EnumerateArray()
            .Select(key => key.GetProperty("models"))
            .Where(models => models.TryGetProperty(model, out _))
            .Select(models => models.GetProperty(model));

    private async Task AssertNoKeyBlamedAsync()
    {
        var status = await gateway.RotationStatusAsync();
        Assert.All(status.GetProperty("data").GetProperty("keys").EnumerateArray(),
            key => Assert.NotEqual("invalid", key.GetProperty("status").GetString()));
    }
}
