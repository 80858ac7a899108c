using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace GeminiParty.FakeGemini.Tests;

/// <summary>Builds the requests a Gemini client would send, so tests read as the call they make.</summary>
internal static class GeminiCalls
{
    public const string GenerateBody = """{"contents":[{"role":"user","parts":[{"text":"Say hello to the tests"}]}]}""";
    public const string ChatBody = """{"model":"gemini-2.0-flash","messages":[{"role":"user","content":"Say hello"}]}""";

    public static HttpRequestMessage Native(string model, string method, string? key, string body = GenerateBody, string query = "")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1beta/models/{model}:{method}{query}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Add("x-goog-api-key", key);
        }

        return request;
    }

    public static HttpRequestMessage NativeGet(string pathAndQuery, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Add("x-goog-api-key", key);
        return request;
    }

    public static HttpRequestMessage OpenAi(HttpMethod method, string path, string key, string? body = null)
    {
        var request = new HttpRequestMessage(method, "/v1beta/openai" + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return request;
    }

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The <c>@type</c>-tagged entry of a Google error's details, e.g. "RetryInfo".</summary>
    public static JsonElement? Detail(this JsonElement errorBody, string typeName)
    {
        if (!errorBody.GetProperty("error").TryGetProperty("details", out var details))
        {
            return null;
        }

        foreach (var detail in details.EnumerateArray())
        {
            if (detail.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc." + typeName)
            {
                return detail;
            }
        }

        return null;
    }
}
