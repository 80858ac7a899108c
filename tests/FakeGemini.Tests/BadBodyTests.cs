using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace GeminiParty.FakeGemini.Tests;

/// <summary>
/// A body Google cannot read is the caller's mistake, answered 400 INVALID_ARGUMENT as Google does; a 500 here would
/// read to a proxy as an outage of the key and be retried on the others.
/// </summary>
public sealed class BadBodyTests
{
    private const string Key = "AIzaBadBodyKey";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, byte[]> Bodies => new()
    {
        { "/v1beta/cachedContents", "application/json", "[1,2]"u8.ToArray() },
        { "/v1beta/cachedContents", "application/json", "\"a string\""u8.ToArray() },
        { "/v1beta/models/gemini-2.0-flash:generateContent", "application/json",
            [.. "{\"contents\":[{\"parts\":[{\"text\":\""u8.ToArray(), 0xC3, 0x28, .. "\"}]}]}"u8.ToArray()] },
        { "/v1beta/openai/files", "multipart/form-data; boundary=b", "--b\r\nno colon here\r\n\r\nx\r\n--b--\r\n"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task An_unreadable_body_is_a_400_invalid_argument_not_a_500(string path, string contentType, byte[] body)
    {
        await using var fake = await FakeGeminiServer.StartAsync(cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.Add("x-goog-api-key", Key);

        using var response = await http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        var error = (root.ValueKind == JsonValueKind.Array ? root[0] : root).GetProperty("error"); // the OpenAI surface wraps it in a list
        Assert.Equal("INVALID_ARGUMENT", error.GetProperty("status").GetString());
    }
}
