using System.Net.Http.Headers;
using System.Text;

namespace GeminiParty.Frontend.Tests;

/// <summary>Every method on a model in both API versions, the whole OpenAI-compatible surface, and 501 for key-bound resources.</summary>
[Collection(FrontendCollection.Name)]
public sealed class WholeApiRoutesTests(FrontendFixture gateway)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Imagen_predict_returns_upstreams_images_through_a_pool_key()
    {
        var model = "imagen-" + FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:predict",
            """{"instances":[{"prompt":"a red fox"}],"parameters":{"sampleCount":2}}""");

        Assert.Equal(200, (int)response.StatusCode);
        var predictions = (await response.ReadJsonAsync()).GetProperty("predictions");
        Assert.Equal(2, predictions.GetArrayLength());
        Assert.Equal("image/png", predictions[0].GetProperty("mimeType").GetString());
        Assert.NotEmpty(Convert.FromBase64String(predictions[0].GetProperty("bytesBase64Encoded").GetString()!));
        var recorded = gateway.Upstream.Requests.Single(r => r.Model == model);
        Assert.Equal($"/v1beta/models/{model}:predict", recorded.Path);
        Assert.Contains(recorded.ApiKey, FrontendFixture.Keys);
    }

    [Theory]
    [InlineData("predictLongRunning", """{"instances":[{"prompt":"waves"}]}""", "name", "models/{0}/operations/")]
    [InlineData("batchGenerateContent", """{"batch":{"displayName":"b","inputConfig":{"requests":{"requests":[{"request":{"contents":[{"parts":[{"text":"hi"}]}]}}]}}}}""", "name", "batches/")]
    [InlineData("asyncBatchEmbedContent", """{"batch":{"inputConfig":{"requests":{"requests":[{"request":{"content":{"parts":[{"text":"hi"}]}}}]}}}}""", "name", "batches/")]
    public async Task Long_running_and_batch_methods_are_forwarded_and_rotated(string method, string body, string field, string prefix)
    {
        var model = FrontendFixture.NewModel();
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:{method}", body);
            Assert.Equal(200, (int)response.StatusCode);
            Assert.StartsWith(string.Format(null, prefix, model), (await response.ReadJsonAsync()).GetProperty(field).GetString());
        }
        Assert.Equal([0, 1, 2], gateway.KeysSeenFor(model));
    }

    [Fact]
    public async Task Native_v1_methods_go_to_upstreams_v1()
    {
        var model = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1/models/{model}:generateContent", FrontendAssertions.Prompt);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal($"/v1/models/{model}:generateContent", gateway.Upstream.Requests.Single(r => r.Model == model).Path);
        using var list = await gateway.GetAsync("/v1/models"); // still the OpenAI-compatible list
        Assert.Equal("list", (await list.ReadJsonAsync()).GetProperty("object").GetString());
    }

    [Fact]
    public async Task An_unknown_method_goes_upstream_which_answers_it()
    {
        var model = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:someFutureMethod", "{}");

        await response.AssertGoogleErrorAsync(404); // the fake, like Google, has no such method
        Assert.Equal($"/v1beta/models/{model}:someFutureMethod", gateway.Upstream.Requests.Single(r => r.Model == model).Path);
    }

    [Theory]
    [InlineData("gen-erate")]
    [InlineData("generate%2Fcontent")]
    [InlineData("1generate")]
    public async Task A_method_that_is_not_a_name_is_400_and_never_reaches_upstream(string method)
    {
        var before = gateway.Upstream.TotalRequests;
        using var response = await gateway.PostJsonAsync($"/v1beta/models/gemini-2.0-flash:{method}", FrontendAssertions.Prompt);
        await response.AssertGoogleErrorAsync(400);
        Assert.Equal(before, gateway.Upstream.TotalRequests);
    }

    [Fact]
    public async Task OpenAi_image_generation_reads_the_model_from_the_body()
    {
        var model = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync("/v1/images/generations", $$"""{"model":"{{model}}","prompt":"a fox","n":1,"response_format":"b64_json"}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.NotEmpty(Convert.FromBase64String((await response.ReadJsonAsync()).GetProperty("data")[0].GetProperty("b64_json").GetString()!));
        Assert.Equal("/v1beta/openai/images/generations", gateway.Upstream.Requests.Single(r => r.Model == model).Path);
    }

    [Fact]
    public async Task A_multipart_transcription_names_its_model_in_a_form_field_and_reaches_upstream_intact()
    {
        var model = FrontendFixture.NewModel();
        using var form = new MultipartFormDataContent();
        var audio = new ByteArrayContent(Encoding.ASCII.GetBytes("RIFF....WAVEfmt fake audio"));
        audio.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        form.Add(audio, "file", "hello.wav");
        form.Add(new StringContent(model), "model");
        using var request = gateway.Request(HttpMethod.Post, "/v1/audio/transcriptions");
        request.Content = form;
        var sent = await form.ReadAsByteArrayAsync(Cancel);

        using var response = await gateway.Client.SendAsync(request, Cancel);

        Assert.True(200 == (int)response.StatusCode, await response.Content.ReadAsStringAsync(Cancel));
        Assert.StartsWith("fake transcription", (await response.ReadJsonAsync()).GetProperty("text").GetString());
        var recorded = gateway.Upstream.Requests.Single(r => r.Model == model);
        Assert.Equal("/v1beta/openai/audio/transcriptions", recorded.Path);
        Assert.Equal(sent, recorded.Body);
        Assert.StartsWith("multipart/form-data; boundary=", recorded.Headers["Content-Type"]);
    }

    [Fact]
    public async Task Speech_comes_back_as_upstreams_audio_bytes()
    {
        var model = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync("/v1beta/openai/audio/speech", $$"""{"model":"{{model}}","input":"hello","voice":"alloy"}""");

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("audio/wav", response.Content.Headers.ContentType?.MediaType);
        var audio = await response.Content.ReadAsByteArrayAsync(Cancel);
        Assert.Equal("RIFF"u8.ToArray(), audio[..4]);
    }

    [Fact]
    public async Task An_OpenAi_path_without_a_model_counts_under_its_own_bucket()
    {
        using var response = await gateway.GetAsync("/v1/some/future/listing?limit=2");

        Assert.Equal(404, (int)response.StatusCode); // the fake has no such route; the answer is upstream's
        var recorded = gateway.Upstream.Requests.Last(r => r.Path == "/v1beta/openai/some/future/listing");
        Assert.Equal("?limit=2", recorded.QueryString);
        Assert.Contains(recorded.ApiKey, FrontendFixture.Keys);
    }

    [Theory]
    [InlineData("/v1/..%2F..%2Fadmin")]
    [InlineData("/v1beta/openai/chat/completions%0d%0aX:1")]
    public async Task An_OpenAi_path_that_could_leave_the_api_is_400(string path)
    {
        var before = gateway.Upstream.TotalRequests;
        using var response = await gateway.PostJsonAsync(path, """{"model":"gemini-2.0-flash"}""");
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal(before, gateway.Upstream.TotalRequests);
    }

    [Theory]
    [InlineData("POST", "/upload/v1beta/files")]
    [InlineData("GET", "/download/v1beta/files/abc:download")]
    [InlineData("GET", "/v1beta/cachedContents/abc")]
    [InlineData("GET", "/v1beta/batches/abc")]
    [InlineData("GET", "/v1/operations/xyz")]
    [InlineData("GET", "/v1beta/models/veo-2.0-generate-001/operations/xyz")]
    [InlineData("DELETE", "/v1beta/fileSearchStores/store-1")]
    [InlineData("POST", "/v1beta/openai/files")]
    public async Task Key_bound_resource_routes_reach_upstream_with_a_pool_key(string method, string path)
    {
        var before = gateway.Upstream.TotalRequests;
        using var response = await gateway.Client.SendAsync(gateway.Request(new HttpMethod(method), path, method == "POST" ? "{}" : null), Cancel);

        Assert.NotEqual(501, (int)response.StatusCode); // upstream's answer (the fake's 403, 404 or 400 for made-up ids)
        Assert.Equal(before + 1, gateway.Upstream.TotalRequests); // one attempt: nobody owns these made-up resources
        Assert.Contains(gateway.Upstream.Requests[^1].ApiKey, FrontendFixture.Keys);
    }
}
