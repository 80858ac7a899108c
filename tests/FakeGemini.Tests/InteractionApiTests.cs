using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GeminiParty.FakeGemini.Tests;

/// <summary>The Interactions API: each interaction belongs to the key that made it, as Google's do to a project.</summary>
public sealed class InteractionApiTests
{
    private const string Owner = "AIzaInteractionOwnerKey";
    private const string Other = "AIzaInteractionOtherKey";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HttpRequestMessage Create(string key, string json, string version = "v1beta") => Send(HttpMethod.Post, $"/{version}/interactions", key, json);

    private static HttpRequestMessage Send(HttpMethod method, string path, string key, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("x-goog-api-key", key);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }

    private static async Task<JsonElement> CreatedAsync(HttpClient http, string key, string json)
    {
        using var response = await http.SendAsync(Create(key, json), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync(Ct);
    }

    /// <summary>A file made by <paramref name="key"/> through the resumable protocol, as its full URI.</summary>
    private static async Task<string> UploadAsync(HttpClient http, string key)
    {
        using var start = Send(HttpMethod.Post, "/upload/v1beta/files", key, """{"file":{"display_name":"notes"}}""");
        start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        start.Headers.Add("X-Goog-Upload-Command", "start");
        using var started = await http.SendAsync(start, Ct);
        var uploadUrl = new Uri(started.Headers.GetValues("x-goog-upload-url").Single());
        using var upload = new HttpRequestMessage(HttpMethod.Post, uploadUrl.PathAndQuery) { Content = new ByteArrayContent("notes"u8.ToArray()) };
        upload.Headers.Add("x-goog-api-key", key);
        upload.Headers.Add("X-Goog-Upload-Command", "upload, finalize");
        upload.Headers.Add("X-Goog-Upload-Offset", "0");
        using var finalized = await http.SendAsync(upload, Ct);
        return (await finalized.ReadJsonAsync(Ct)).GetProperty("file").GetProperty("uri").GetString()!;
    }

    private static string Text(JsonElement interaction) =>
        interaction.GetProperty("steps")[0].GetProperty("content")[0].GetProperty("text").GetString()!;

    private static async Task<JsonElement> ErrorAsync(HttpResponseMessage response) => (await response.ReadJsonAsync(Ct)).GetProperty("error");

    [Fact]
    public async Task An_interaction_is_answered_in_googles_shape_and_only_its_key_may_get_or_delete_it()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var created = await http.SendAsync(Create(Owner, """{"model":"models/gemini-2.5-flash","input":"Say hello"}"""), Ct);
        var interaction = await created.ReadJsonAsync(Ct);
        var id = interaction.GetProperty("id").GetString()!;
        using var mine = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/interactions/" + id, Owner), Ct);
        using var theirs = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/interactions/" + id, Other), Ct);
        using var theirDelete = await http.SendAsync(Send(HttpMethod.Delete, "/v1beta/interactions/" + id, Other), Ct);
        using var unknown = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/interactions/v1_unknown", Owner), Ct);
        using var delete = await http.SendAsync(Send(HttpMethod.Delete, "/v1beta/interactions/" + id, Owner), Ct);
        using var afterDelete = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/interactions/" + id, Owner), Ct);

        Assert.Equal("application/json", created.Content.Headers.ContentType?.MediaType);
        Assert.Matches("^v1_[A-Za-z0-9]{24,}$", id);
        Assert.Equal(
            ["id", "object", "model", "status", "created", "updated", "steps", "usage"],
            interaction.EnumerateObject().Select(p => p.Name));
        Assert.Equal("gemini-2.5-flash", interaction.GetProperty("model").GetString());
        Assert.Equal("completed", interaction.GetProperty("status").GetString());
        Assert.EndsWith("Z", interaction.GetProperty("created").GetString());
        Assert.StartsWith("Turn 1 of the conversation. ", Text(interaction));
        var usage = interaction.GetProperty("usage");
        Assert.Equal(
            usage.GetProperty("total_input_tokens").GetInt32() + usage.GetProperty("total_output_tokens").GetInt32(),
            usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(Text(interaction), Text(await mine.ReadJsonAsync(Ct)));
        Assert.Equal(HttpStatusCode.Forbidden, theirs.StatusCode);
        var denied = await ErrorAsync(theirs);
        Assert.Equal("PERMISSION_DENIED", denied.GetProperty("status").GetString());
        Assert.Contains($"interaction {id}", denied.GetProperty("message").GetString());
        Assert.False(denied.TryGetProperty("details", out _)); // no key reason: not the key's fault
        Assert.Equal(HttpStatusCode.Forbidden, theirDelete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("NOT_FOUND", (await ErrorAsync(unknown)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.Equal("{}", await delete.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, afterDelete.StatusCode);
    }

    [Fact]
    public async Task A_turn_counts_its_chain_and_a_previous_interaction_of_another_key_is_refused()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var first = (await CreatedAsync(http, Owner, """{"model":"gemini-2.5-flash","input":"one"}""")).GetProperty("id").GetString()!;

        var second = await CreatedAsync(http, Owner, $$"""{"model":"gemini-2.5-flash","input":"two","previous_interaction_id":"{{first}}"}""");
        var third = await CreatedAsync(http, Owner,
            $$"""{"model":"gemini-2.5-flash","input":[{"type":"text","text":"three"}],"previous_interaction_id":"{{second.GetProperty("id").GetString()}}"}""");
        using var foreign = await http.SendAsync(Create(Other, $$"""{"model":"gemini-2.5-flash","input":"x","previous_interaction_id":"{{first}}"}"""), Ct);
        using var unknown = await http.SendAsync(Create(Owner, """{"model":"gemini-2.5-flash","input":"x","previous_interaction_id":"v1_gone"}"""), Ct);

        Assert.StartsWith("Turn 2 of the conversation. ", Text(second));
        Assert.Equal(first, second.GetProperty("previous_interaction_id").GetString());
        Assert.StartsWith("Turn 3 of the conversation. ", Text(third));
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Equal("PERMISSION_DENIED", (await ErrorAsync(foreign)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("Interaction v1_gone was not found.", (await ErrorAsync(unknown)).GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_stream_sends_its_events_in_order_with_usage_in_the_last_and_is_stored_as_a_whole_answer()
    {
        await using var fake = await FakeGeminiServer.StartAsync(new FakeGeminiOptions { StreamEvents = 4, HoldStreamsAfterFirstEvent = true }, Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var response = await http.SendAsync(Create(Owner, """{"model":"gemini-2.5-flash","input":"hi","stream":true}"""),
            HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var reader = new EventReader(await response.Content.ReadAsStreamAsync(Ct), "\n\n");
        var events = new List<JsonElement> { Parse((await reader.ReadAsync(Ct))!) };
        Assert.Equal(1, fake.HeldStreams);
        fake.ReleaseStreams();
        while (await reader.ReadAsync(Ct) is { } next)
        {
            events.Add(Parse(next));
        }

        var id = events[0].GetProperty("interaction").GetProperty("id").GetString()!;
        fake.Options.HoldStreamsAfterFirstEvent = false; // a replay is a stream too
        using var stored = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/interactions/" + id, Owner), Ct);
        using var replay = await http.SendAsync(GeminiCalls.NativeGet($"/v1beta/interactions/{id}?stream=true", Owner), Ct);
        var replayed = (await replay.Content.ReadAsStringAsync(Ct)).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(Parse).ToList();

        Assert.Equal(
            ["interaction.created", "step.start", "step.delta", "step.delta", "step.delta", "step.delta", "step.stop", "interaction.completed"],
            events.Select(e => e.GetProperty("event_type").GetString()));
        Assert.All(events, e => Assert.False(string.IsNullOrEmpty(e.GetProperty("event_id").GetString())));
        Assert.Equal("in_progress", events[0].GetProperty("interaction").GetProperty("status").GetString());
        var completed = events[^1].GetProperty("interaction");
        Assert.Equal("completed", completed.GetProperty("status").GetString());
        Assert.Equal("usage", completed.EnumerateObject().Last().Name);
        var text = string.Concat(events.Where(e => e.GetProperty("event_type").GetString() == "step.delta")
            .Select(e => e.GetProperty("delta").GetProperty("text").GetString()));
        Assert.StartsWith("Turn 1 of the conversation. ", text);
        Assert.Equal(text, Text(await stored.ReadJsonAsync(Ct)));
        Assert.Equal(events.Select(e => e.GetRawText()), replayed.Select(e => e.GetRawText()));

        static JsonElement Parse(string line)
        {
            Assert.StartsWith("data: ", line);
            return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
        }
    }

    [Fact]
    public async Task A_background_interaction_completes_on_its_second_get_and_only_while_in_progress_can_be_cancelled()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var started = await CreatedAsync(http, Owner, """{"agent":"deep-research-pro-preview-12-2025","input":"research","background":true}""");
        var id = started.GetProperty("id").GetString()!;
        var other = (await CreatedAsync(http, Owner, """{"model":"gemini-2.5-flash","input":"x","background":true}""")).GetProperty("id").GetString()!;

        using var firstGet = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/interactions/" + id, Owner), Ct);
        var first = await firstGet.ReadJsonAsync(Ct);
        using var secondGet = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/interactions/" + id, Owner), Ct);
        var second = await secondGet.ReadJsonAsync(Ct);
        using var cancelDone = await http.SendAsync(Send(HttpMethod.Post, $"/v1beta/interactions/{id}/cancel", Owner), Ct);
        using var cancelForeign = await http.SendAsync(Send(HttpMethod.Post, $"/v1beta/interactions/{other}/cancel", Other), Ct);
        using var cancel = await http.SendAsync(Send(HttpMethod.Post, $"/v1beta/interactions/{other}/cancel", Owner), Ct);
        using var afterCancel = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/interactions/" + other, Owner), Ct);

        Assert.Equal("deep-research-pro-preview-12-2025", started.GetProperty("agent").GetString());
        Assert.Equal("in_progress", started.GetProperty("status").GetString());
        Assert.False(started.TryGetProperty("steps", out _));
        Assert.False(started.TryGetProperty("usage", out _));
        Assert.Equal("in_progress", first.GetProperty("status").GetString());
        Assert.Equal("completed", second.GetProperty("status").GetString());
        Assert.StartsWith("Turn 1 of the conversation. ", Text(second));
        Assert.True(second.TryGetProperty("usage", out _));
        Assert.Equal(HttpStatusCode.BadRequest, cancelDone.StatusCode);
        Assert.Equal("FAILED_PRECONDITION", (await ErrorAsync(cancelDone)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, cancelForeign.StatusCode);
        Assert.Equal("cancelled", (await cancel.ReadJsonAsync(Ct)).GetProperty("status").GetString());
        Assert.Equal("cancelled", (await afterCancel.ReadJsonAsync(Ct)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_interaction_with_store_false_is_answered_but_not_kept()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        var answered = await CreatedAsync(http, Owner, """{"model":"gemini-2.5-flash","input":"hi","store":false}""");
        using var get = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/interactions/" + answered.GetProperty("id").GetString(), Owner), Ct);

        Assert.Equal("completed", answered.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task A_keys_scripted_faults_apply_to_its_interactions_as_to_its_generate_calls()
    {
        await using var fake = await FakeGeminiServer.StartAsync(new FakeGeminiOptions { ValidKeys = [Owner, Other] }, Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        fake.SetFault(Owner, FakeFault.RateLimitPerMinute(retryDelaySeconds: 20), times: 1);

        using var limited = await http.SendAsync(Create(Owner, """{"model":"models/gemini-2.5-pro","input":"hi"}""", "v1alpha"), Ct);
        var body = await limited.ReadJsonAsync(Ct);
        using var spared = await http.SendAsync(Create(Other, """{"model":"gemini-2.5-pro","input":"hi"}""", "v1"), Ct);
        using var next = await http.SendAsync(Create(Owner, """{"model":"gemini-2.5-pro","input":"hi"}"""), Ct);
        using var invalid = await http.SendAsync(Create("AIzaNotAKeyOfThisProject", """{"model":"gemini-2.5-pro","input":"hi"}"""), Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("RESOURCE_EXHAUSTED", body.GetProperty("error").GetProperty("status").GetString());
        Assert.Equal("gemini-2.5-pro", body.Detail("QuotaFailure")!.Value.GetProperty("violations")[0]
            .GetProperty("quotaDimensions").GetProperty("model").GetString());
        Assert.Equal("20s", body.Detail("RetryInfo")!.Value.GetProperty("retryDelay").GetString());
        Assert.Equal(HttpStatusCode.OK, spared.StatusCode);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("API_KEY_INVALID", (await invalid.ReadJsonAsync(Ct)).Detail("ErrorInfo")!.Value.GetProperty("reason").GetString());
        var recorded = fake.Requests.Where(r => r.ApiKey == Owner).ToList();
        Assert.All(recorded, r => Assert.Equal("gemini-2.5-pro", r.Model));
        Assert.Equal([429, 200], recorded.Select(r => r.Status));
    }

    [Fact]
    public async Task A_create_without_model_or_input_or_naming_anothers_file_is_refused_as_google_does()
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        var file = await UploadAsync(http, Other);
        var naming = $$"""{"model":"gemini-2.5-flash","input":[{"type":"text","text":"sum up"},{"type":"document","uri":"{{file}}"}]}""";

        using var noModel = await http.SendAsync(Create(Owner, """{"input":"hi"}"""), Ct);
        using var noInput = await http.SendAsync(Create(Owner, """{"model":"gemini-2.5-flash"}"""), Ct);
        using var continued = await http.SendAsync(Create(Owner, """{"model":"gemini-2.5-flash","continuation_token":"t"}"""), Ct);
        using var unknownModel = await http.SendAsync(Create(Owner, """{"model":"unknown-model","input":"hi"}"""), Ct);
        using var foreignFile = await http.SendAsync(Create(Owner, naming), Ct);
        using var ownFile = await http.SendAsync(Create(Other, naming), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, noModel.StatusCode);
        Assert.Equal("INVALID_ARGUMENT", (await ErrorAsync(noModel)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, noInput.StatusCode);
        Assert.Equal(HttpStatusCode.OK, continued.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownModel.StatusCode);
        Assert.Matches(new Regex("^models/unknown-model is not found"), (await ErrorAsync(unknownModel)).GetProperty("message").GetString()!);
        Assert.Equal(HttpStatusCode.Forbidden, foreignFile.StatusCode);
        var denied = await ErrorAsync(foreignFile);
        Assert.Equal("PERMISSION_DENIED", denied.GetProperty("status").GetString());
        Assert.Contains("File " + file[(file.LastIndexOf('/') + 1)..], denied.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, ownFile.StatusCode);
    }
}
