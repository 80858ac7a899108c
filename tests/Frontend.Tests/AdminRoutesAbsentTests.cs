using System.Net;

namespace GeminiParty.Frontend.Tests;

/// <summary>The shared gateway has no ADMIN_TOKEN.</summary>
[Collection(FrontendCollection.Name)]
public sealed class AdminRoutesAbsentTests(FrontendFixture gateway)
{
    [Fact]
    public async Task Without_ADMIN_TOKEN_the_admin_routes_do_not_exist()
    {
        using var response = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, "/admin/keys"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
