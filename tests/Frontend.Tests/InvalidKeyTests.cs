using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>Invalid keys never come back, so these tests get a gateway of their own.</summary>
public sealed class InvalidKeyTests(FrontendFixture gateway) : IClassFixture<FrontendFixture>
{
    private static readonly string[] Keys = FrontendFixture.Keys;

    [Fact]
    public async Task Invalid_suspended_and_unauthenticated_keys_leave_every_model_and_the_pool_says_so()
    {
        // key 0: 400 API_KEY_INVALID; key 1: 403 suspended (its message names the key); key 2 stays healthy
        var model = FrontendFixture.NewModel();
        gateway.Upstream.SetFault(Keys[0], FakeFault.InvalidKey);
        gateway.Upstream.SetFault(Keys[1], FakeFault.Suspended);

        using (var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt))
        {
            Assert.Equal(200, (int)response.StatusCode);
            await response.ReadJsonAsync();
        }
        Assert.Equal([0, 1, 2], gateway.KeysSeenFor(model));

        var other = FrontendFixture.NewModel();
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.PostJsonAsync($"/v1beta/models/{other}:generateContent", FrontendAssertions.Prompt);
            Assert.Equal(200, (int)response.StatusCode);
        }
        Assert.Equal([2, 2, 2], gateway.KeysSeenFor(other));

        var status = await gateway.RotationStatusAsync();
        Assert.Equal("invalid", status.KeyStatus(0).GetProperty("status").GetString());
        Assert.Contains("API key not valid", status.KeyStatus(0).GetProperty("invalid").GetProperty("reason").GetString());
        Assert.Equal("invalid", status.KeyStatus(1).GetProperty("status").GetString());
        Assert.Equal(2, status.GetProperty("data").GetProperty("summary").GetProperty("invalidKeys").GetInt32());

        // the last key fails with 401 and the client gets the masked upstream answer, then 503: no key left at all
        gateway.Upstream.SetFault(Keys[2], FakeFault.Unauthenticated401);
        using (var lastKey = await gateway.PostJsonAsync($"/v1beta/models/{other}:generateContent", FrontendAssertions.Prompt))
        {
            await lastKey.AssertGoogleErrorAsync(401);
        }
        using var none = await gateway.PostJsonAsync($"/v1beta/models/{other}:generateContent", FrontendAssertions.Prompt);
        var error = await none.AssertGoogleErrorAsync(503);
        Assert.Contains("invalid", error.GetProperty("message").GetString());
    }
}

/// <summary>Google's 403 names the suspended key: the client must see it masked.</summary>
public sealed class KeyMaskingTests(FrontendFixture gateway) : IClassFixture<FrontendFixture>
{
    [Fact]
    public async Task An_upstream_error_that_names_a_pool_key_reaches_the_client_masked()
    {
        var model = FrontendFixture.NewModel();
        foreach (var key in FrontendFixture.Keys)
        {
            gateway.Upstream.SetFault(key, FakeFault.Suspended);
        }

        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);

        var error = await response.AssertGoogleErrorAsync(403); // AssertGoogleErrorAsync also checks no key appears
        Assert.Contains("AIza...cccc", error.GetProperty("message").GetString());
    }
}
