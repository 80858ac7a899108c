using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GeminiParty.FakeGemini;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// The OpenAI-compatible surface as users meet it: through the official OpenAI .NET SDK with only the endpoint and
/// the key changed, against the running gateway and the fake upstream.
/// </summary>
[Collection(FrontendCollection.Name)]
public sealed class OpenAiSdkTests(FrontendFixture gateway)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(15);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Chat_completion_answers_through_the_sdk_with_a_pool_key()
    {
        var model = FrontendFixture.NewModel();
        var chat = new ChatClient(model, new ApiKeyCredential(FrontendFixture.Token), Options());

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Say hi")], cancellationToken: Cancel);

        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.False(string.IsNullOrWhiteSpace(completion.Content[0].Text));
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.True(completion.Usage.TotalTokenCount > 0);
        var recorded = Assert.Single(gateway.Upstream.Requests, r => r.Model == model);
        Assert.Equal("/v1beta/openai/chat/completions", recorded.Path);
        Assert.Contains(recorded.ApiKey, FrontendFixture.Keys);
    }

    [Fact]
    public async Task Streaming_chat_yields_the_first_update_while_upstream_is_still_generating()
    {
        var model = FrontendFixture.NewModel();
        var chat = new ChatClient(model, new ApiKeyCredential(FrontendFixture.Token), Options());
        gateway.Upstream.Options.HoldStreamsAfterFirstEvent = true;
        try
        {
            var updates = chat.CompleteChatStreamingAsync([new UserChatMessage("Count to three")], cancellationToken: Cancel);
            await using var reader = updates.GetAsyncEnumerator(Cancel);

            Assert.True(await reader.MoveNextAsync().AsTask().WaitAsync(StepTimeout, Cancel));
            var text = new StringBuilder(string.Concat(reader.Current.ContentUpdate.Select(part => part.Text)));
            Assert.True(text.Length > 0, "the first update carries no text");
            // the update reached the SDK while the fake still holds the rest of the generation
            Assert.Equal(1, gateway.Upstream.HeldStreams);

            gateway.Upstream.ReleaseStreams();
            ChatFinishReason? finish = null;
            var count = 1;
            while (await reader.MoveNextAsync().AsTask().WaitAsync(StepTimeout, Cancel))
            {
                count++;
                text.Append(string.Concat(reader.Current.ContentUpdate.Select(part => part.Text)));
                finish ??= reader.Current.FinishReason;
            }

            Assert.Equal(gateway.Upstream.Options.StreamEvents, count);
            Assert.Equal(ChatFinishReason.Stop, finish);
            Assert.False(string.IsNullOrWhiteSpace(text.ToString()));
            Assert.Equal(200, Assert.Single(gateway.Upstream.Requests, r => r.Model == model).Status);
        }
        finally
        {
            gateway.Upstream.Options.HoldStreamsAfterFirstEvent = false;
            gateway.Upstream.ReleaseStreams();
        }
    }

    [Fact]
    public async Task Embeddings_accept_a_string_and_an_array()
    {
        var model = FrontendFixture.NewModel();
        var embeddings = new EmbeddingClient(model, new ApiKeyCredential(FrontendFixture.Token), Options());

        OpenAIEmbedding single = await embeddings.GenerateEmbeddingAsync("one sentence", cancellationToken: Cancel);
        OpenAIEmbeddingCollection several = await embeddings.GenerateEmbeddingsAsync(["first", "second", "third"], cancellationToken: Cancel);

        Assert.Equal(768, single.ToFloats().Length);
        Assert.Equal([0, 1, 2], several.Select(e => e.Index));
        Assert.All(several, e => Assert.Equal(768, e.ToFloats().Length));
        Assert.NotEqual(several[0].ToFloats().ToArray(), several[1].ToFloats().ToArray());

        var inputs = gateway.Upstream.Requests.Where(r => r.Model == model)
            .Select(r => JsonNode.Parse(r.Body)!["input"]!.GetValueKind()).ToArray();
        Assert.Equal([JsonValueKind.String, JsonValueKind.Array], inputs);
        Assert.All(gateway.Upstream.Requests.Where(r => r.Model == model), r => Assert.Equal("/v1beta/openai/embeddings", r.Path));
    }

    [Fact]
    public async Task Models_can_be_listed_and_fetched_by_the_ids_the_list_returns()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential(FrontendFixture.Token), Options());

        OpenAIModelCollection list = await models.GetModelsAsync(Cancel);
        Assert.Contains(list, m => m.Id == "models/gemini-2.0-flash");
        Assert.All(list, m => Assert.Equal("google", m.OwnedBy));

        var fresh = FrontendFixture.NewModel();
        OpenAIModel bare = await models.GetModelAsync(fresh, Cancel);
        Assert.Equal($"models/{fresh}", bare.Id);

        // clients feed ids from the list straight back; the SDK escapes their slash as %2F
        OpenAIModel listed = await models.GetModelAsync("models/gemini-2.0-flash", Cancel);
        Assert.Equal("models/gemini-2.0-flash", listed.Id);
    }

    [Fact]
    public async Task A_wrong_token_surfaces_as_a_401_with_openais_error_shape_and_never_reaches_upstream()
    {
        var model = FrontendFixture.NewModel();
        var chat = new ChatClient(model, new ApiKeyCredential("not-a-client-token"), Options());

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Cancel));

        Assert.Equal(401, ex.Status);
        var error = ReadError(ex);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
        Assert.DoesNotContain(gateway.Upstream.Requests, r => r.Model == model);
    }

    [Fact]
    public async Task Every_key_rate_limited_surfaces_as_a_429_with_retry_after()
    {
        var model = FrontendFixture.NewModel();
        var chat = new ChatClient(model, new ApiKeyCredential(FrontendFixture.Token), Options());
        foreach (var key in FrontendFixture.Keys)
        {
            gateway.Upstream.SetFault(key, FakeFault.RateLimitPerMinute(retryDelaySeconds: 30));
        }
        try
        {
            // first call: each key answers 429 in turn; second call: the pool knows all are cooling, upstream is spared
            for (var call = 0; call < 2; call++)
            {
                var ex = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Cancel));
                Assert.Equal(429, ex.Status);
                Assert.True(ex.GetRawResponse()!.Headers.TryGetValue("Retry-After", out var retryAfter), $"call {call + 1} has no Retry-After");
                Assert.InRange(int.Parse(retryAfter!, System.Globalization.CultureInfo.InvariantCulture), 1, 30);
                Assert.False(string.IsNullOrWhiteSpace(ReadError(ex).GetProperty("message").GetString()));
            }
            Assert.Equal([0, 1, 2], gateway.KeysSeenFor(model).Order());
        }
        finally
        {
            gateway.Upstream.ClearFaults();
        }
    }

    [Fact]
    public async Task Request_fields_set_through_the_sdk_reach_upstream_byte_for_byte()
    {
        var model = FrontendFixture.NewModel();
        var capture = new RequestCapture();
        var chat = new ChatClient(model, new ApiKeyCredential(FrontendFixture.Token), Options(capture: capture));
        var options = new ChatCompletionOptions
        {
            Temperature = 0.25f,
            TopP = 0.9f,
            MaxOutputTokenCount = 64,
            ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat(),
            ToolChoice = ChatToolChoice.CreateAutoChoice(),
            StopSequences = { "END" },
            Tools =
            {
                ChatTool.CreateFunctionTool("get_weather", "Weather for a city",
                    BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""")),
            },
        };

        await chat.CompleteChatAsync([new SystemChatMessage("Answer in JSON"), new UserChatMessage("Weather in Oslo?")], options, Cancel);

        var sent = Assert.Single(capture.Bodies);
        var received = Assert.Single(gateway.Upstream.Requests, r => r.Model == model).Body;
        Assert.Equal(Encoding.UTF8.GetString(sent), Encoding.UTF8.GetString(received));
        var json = JsonNode.Parse(received)!;
        Assert.Equal(0.25, json["temperature"]!.GetValue<double>(), 3);
        Assert.Equal("get_weather", json["tools"]![0]!["function"]!["name"]!.GetValue<string>());
        Assert.Equal("json_object", json["response_format"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_and_legacy_fields_from_a_raw_client_reach_upstream_unchanged()
    {
        var model = FrontendFixture.NewModel();
        var body = """
            {"model":"models/MODEL","messages":[{"role":"user","content":"hi"}],
             "temperature":0.7,"max_tokens":32,"n":1,"top_p":1,"stop":["\n\n"],
             "response_format":{"type":"json_schema","json_schema":{"name":"reply","schema":{"type":"object"}}},
             "tools":[{"type":"function","function":{"name":"noop","parameters":{"type":"object","properties":{}}}}],
             "tool_choice":"none","reasoning_effort":"low",
             "x_future_field":{"nested":[1,2.50,"three",null,true]}}
            """.Replace("MODEL", model, StringComparison.Ordinal);

        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/chat/completions", body), Cancel);

        Assert.Equal(200, (int)response.StatusCode);
        var recorded = Assert.Single(gateway.Upstream.Requests, r => r.Model == model);
        Assert.Equal(body, Encoding.UTF8.GetString(recorded.Body));
    }

    [Fact]
    public async Task Googles_own_compatible_base_url_works_for_chat_embeddings_and_models()
    {
        var model = FrontendFixture.NewModel();
        var options = Options("/v1beta/openai/");
        var credential = new ApiKeyCredential(FrontendFixture.Token);

        ChatCompletion completion = await new ChatClient(model, credential, options).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Cancel);
        OpenAIEmbedding embedding = await new EmbeddingClient(model, credential, options).GenerateEmbeddingAsync("hi", cancellationToken: Cancel);
        OpenAIModelCollection list = await new OpenAIModelClient(credential, options).GetModelsAsync(Cancel);

        Assert.False(string.IsNullOrWhiteSpace(completion.Content[0].Text));
        Assert.Equal(768, embedding.ToFloats().Length);
        Assert.NotEmpty(list);
        Assert.Equal(["/v1beta/openai/chat/completions", "/v1beta/openai/embeddings"],
            gateway.Upstream.Requests.Where(r => r.Model == model).Select(r => r.Path));
    }

    [Fact]
    public async Task Only_pool_keys_ever_reach_upstream_never_the_client_token()
    {
        var model = FrontendFixture.NewModel();
        var credential = new ApiKeyCredential(FrontendFixture.SecondToken);
        var chat = new ChatClient(model, credential, Options());
        await chat.CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Cancel);
        await foreach (var _ in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")], cancellationToken: Cancel))
        {
        }
        await new EmbeddingClient(model, credential, Options()).GenerateEmbeddingAsync("hi", cancellationToken: Cancel);
        await new OpenAIModelClient(credential, Options()).GetModelAsync(model, Cancel);

        var seen = gateway.Upstream.Requests.Where(r => r.Model == model).ToArray();
        Assert.Equal(4, seen.Length);
        foreach (var request in gateway.Upstream.Requests)
        {
            Assert.Contains(request.ApiKey, FrontendFixture.Keys);
            var headers = string.Join("\n", request.Headers.Select(h => $"{h.Key}: {h.Value}"));
            Assert.DoesNotContain(FrontendFixture.Token, headers);
            Assert.DoesNotContain(FrontendFixture.SecondToken, headers);
            Assert.DoesNotContain(FrontendFixture.SecondToken, request.QueryString);
        }
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("""{"model":42,"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("""{"model":"../secrets","messages":[{"role":"user","content":"hi"}]}""")]
    public async Task A_body_without_a_usable_model_is_a_400_in_openais_shape(string body)
    {
        var before = gateway.Upstream.TotalRequests;

        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/chat/completions", body), Cancel);

        Assert.Equal(400, (int)response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel)).RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Contains("model", error.GetProperty("message").GetString());
        Assert.Equal(before, gateway.Upstream.TotalRequests);
    }

    [Fact]
    public async Task An_error_that_upstream_wraps_in_an_array_is_unwrapped_for_sdks()
    {
        var model = FrontendFixture.NewModel();
        foreach (var key in FrontendFixture.Keys)
        {
            gateway.Upstream.SetFault(key, FakeFault.ArrayWrappedError(400));
        }
        try
        {
            var body = $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""";
            using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, "/v1/chat/completions", body), Cancel);
            Assert.Equal(400, (int)response.StatusCode);
            var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel)).RootElement;
            Assert.Equal(JsonValueKind.Object, root.ValueKind);
            Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("error").GetProperty("message").GetString()));

            var chat = new ChatClient(model, new ApiKeyCredential(FrontendFixture.Token), Options());
            var ex = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Cancel));
            Assert.Equal(400, ex.Status);
            Assert.Contains("invalid argument", ex.Message, StringComparison.OrdinalIgnoreCase);
            // a client error is returned at once: one upstream call per request, no retry on other keys
            Assert.Equal(2, gateway.Upstream.Requests.Count(r => r.Model == model));
        }
        finally
        {
            gateway.Upstream.ClearFaults();
        }
    }

    /// <summary>SDK options aimed at the gateway; the SDK's own retries are off so each test sees the gateway's answer.</summary>
    private OpenAIClientOptions Options(string root = "/v1", RequestCapture? capture = null)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(gateway.BaseAddress, root),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        };
        if (capture is not null)
        {
            options.AddPolicy(capture, PipelinePosition.PerCall);
        }
        return options;
    }

    private static JsonElement ReadError(ClientResultException ex) =>
        JsonDocument.Parse(ex.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");

    /// <summary>Keeps the exact bytes the SDK put on the wire, to compare with what upstream received.</summary>
    private sealed class RequestCapture : PipelinePolicy
    {
        public List<byte[]> Bodies { get; } = [];

        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Capture(message);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Capture(message);
            await ProcessNextAsync(message, pipeline, currentIndex);
        }

        private void Capture(PipelineMessage message)
        {
            if (message.Request.Content is { } content)
            {
                using var copy = new MemoryStream();
                content.WriteTo(copy);
                Bodies.Add(copy.ToArray());
            }
        }
    }
}
