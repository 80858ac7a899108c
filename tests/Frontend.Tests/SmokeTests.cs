namespace GeminiParty.Frontend.Tests;

[Collection(GatewayCollection.Name)]
public sealed class SmokeTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Generate_content_goes_through()
    {
        var model = GatewayFixture.NewModel();
        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent", """{"contents":[{"parts":[{"text":"hi"}]}]}"""), TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)response.StatusCode);
    }
}
