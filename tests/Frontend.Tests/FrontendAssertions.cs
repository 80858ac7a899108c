using System.Net.Http.Json;
using System.Text.Json;

namespace GeminiParty.Frontend.Tests;

/// <summary>What every response of the gateway must satisfy, and helpers to read it.</summary>
internal static class FrontendAssertions
{
    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        AssertNoUpstreamKey(text);
        AssertNoUpstreamKey(response.Headers.ToString());
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Google's error shape: {"error":{"code":N,"message":"...","status":"..."}}.</summary>
    public static async Task<JsonElement> AssertGoogleErrorAsync(this HttpResponseMessage response, int status)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = await response.ReadJsonAsync();
        var error = json.GetProperty("error");
        Assert.Equal(status, error.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        return error;
    }

    public static void AssertNoUpstreamKey(string text)
    {
        foreach (var key in FrontendFixture.Keys)
        {
            Assert.DoesNotContain(key, text);
        }
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this FrontendFixture gateway, string path, string json, string? token = FrontendFixture.Token) =>
        gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, path, json, token), TestContext.Current.CancellationToken);

    public static Task<HttpResponseMessage> GetAsync(this FrontendFixture gateway, string path, string? token = FrontendFixture.Token) =>
        gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, path, null, token), TestContext.Current.CancellationToken);

    public const string Prompt = """{"contents":[{"role":"user","parts":[{"text":"Say hi"}]}]}""";

    public static async Task<JsonElement> RotationStatusAsync(this FrontendFixture gateway)
    {
        using var response = await gateway.GetAsync("/rotation-status");
        Assert.Equal(200, (int)response.StatusCode);
        return await response.ReadJsonAsync();
    }

    /// <summary>
    /// /rotation-status once it shows what <paramref name="done"/> waits for (outcomes reach the pool in batches, so
    /// counts lag requests by up to a batch interval), or as it is after 10 s.
    /// </summary>
    public static async Task<JsonElement> RotationStatusWhenAsync(this FrontendFixture gateway, Func<JsonElement, bool> done)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var status = await gateway.RotationStatusAsync();
            if (done(status) || deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                return status;
            }
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The status entry of key <paramref name="index"/>.</summary>
    public static JsonElement KeyStatus(this JsonElement status, int index) =>
        status.GetProperty("data").GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("index").GetInt32() == index);

    public static Task<JsonElement> ReadFromJsonAsync(HttpContent content) =>
        content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
}
