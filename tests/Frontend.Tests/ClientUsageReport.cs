using System.Text.Json;

namespace GeminiParty.Frontend.Tests;

/// <summary>Reading <c>/usage</c> as a client (or the admin) sees it, and the <c>x-ratelimit-*</c> headers of an answer.</summary>
internal static class ClientUsageReport
{
    public static async Task<JsonElement> UsageAsync(this FrontendFixture gateway, string token)
    {
        using var response = await gateway.GetAsync("/usage", token);
        Assert.Equal(200, (int)response.StatusCode);
        return await response.ReadJsonAsync();
    }

    public static JsonElement Client(JsonElement usage, string name) =>
        usage.GetProperty("clients").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static JsonElement Today(JsonElement usage, string name) => Client(usage, name).GetProperty("today");

    /// <summary>Today's counts of one model for one client; undefined when the model has none yet.</summary>
    public static JsonElement Day(JsonElement usage, string name, string model) =>
        Client(usage, name).GetProperty("days").EnumerateArray().Last().GetProperty("models").TryGetProperty(model, out var counts) ? counts : default;

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;
}
