using System.Net;

namespace GeminiParty.FakeGemini.Tests;

public sealed class AuthTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Unregistered_key_gets_api_key_invalid()
    {
        await using var fake = await FakeGeminiServer.StartAsync(new FakeGeminiOptions { ValidKeys = ["good-key"] }, Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var response = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", "stolen-key"), Ct);
        var body = await response.ReadJsonAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("API key not valid. Please pass a valid API key.", body.GetProperty("error").GetProperty("message").GetString());
        var errorInfo = body.Detail("ErrorInfo");
        Assert.NotNull(errorInfo);
        Assert.Equal("API_KEY_INVALID", errorInfo.Value.GetProperty("reason").GetString());
        Assert.Equal("googleapis.com", errorInfo.Value.GetProperty("domain").GetString());
    }

    [Fact]
    public async Task Missing_key_is_permission_denied_and_query_key_is_accepted()
    {
        await using var fake = await FakeGeminiServer.StartAsync(new FakeGeminiOptions { ValidKeys = ["good-key"] }, Ct);
        using var http = new HttpClient { BaseAddress = fake.BaseUrl };

        using var anonymous = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", key: null), Ct);
        using var viaQuery = await http.SendAsync(GeminiCalls.Native("gemini-2.0-flash", "generateContent", key: null, query: "?key=good-key"), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        var error = (await anonymous.ReadJsonAsync(Ct)).GetProperty("error");
        Assert.Equal("PERMISSION_DENIED", error.GetProperty("status").GetString());
        Assert.StartsWith("Method doesn't allow unregistered callers", error.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, viaQuery.StatusCode);
        Assert.Equal(1, fake.CountFor("good-key"));
    }
}
