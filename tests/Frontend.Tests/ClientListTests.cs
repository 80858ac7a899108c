using System.Security.Cryptography;
using System.Text;
using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Hosting.ListFiles;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Tests;

/// <summary>The clients file's lines, and the token check over them.</summary>
public sealed class ClientListTests
{
    [Fact]
    public void A_line_gives_the_name_the_token_digest_the_limits_the_allowlist_and_live()
    {
        var digest = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("ci-token"))).ToLowerInvariant();
        var list = ClientList.Parse($"""
            # team
            alice sk-team-alice rpm=30 tpd=2000000 models=gemini-2.5-*
            ci sha256:{digest} rpd=5000 concurrency=4 live=false models=models/gemini-2.0-flash,text-embedding-*
            """);

        var alice = list.Clients[0];
        Assert.Equal("alice", alice.Name);
        Assert.Equal(new ClientLimits(30, null, 2_000_000, null), alice.Limits);
        Assert.True(alice.AllowsModel("gemini-2.5-flash"));
        Assert.True(alice.AllowsModel("gemini-2.5-pro-preview-06-05"));
        Assert.False(alice.AllowsModel("gemini-2.0-flash"));
        Assert.True(alice.AllowsLiveSessions());

        var ci = list.Clients[1];
        Assert.Equal(new ClientLimits(null, 5000, null, 4), ci.Limits);
        Assert.False(ci.AllowsLiveSessions());
        Assert.True(ci.AllowsModel("gemini-2.0-flash"));
        Assert.True(ci.AllowsModel("text-embedding-004"));
        Assert.False(ci.AllowsModel("gemini-2.0-flash-lite"));
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes("ci-token")), ci.TokenDigest);
    }

    [Theory]
    [InlineData("alice", "line 1: expected name then token first")]
    [InlineData("alice tok\nalice other", "line 2: client 'alice' is already on line 1")]
    [InlineData("alice tok\nbob tok", "line 2: the token is already given to the client on line 1")]
    [InlineData("_x tok", "line 1: the name must be")]
    [InlineData("alice tok rpm=0", "line 1: 'rpm' must be a whole number from 1")]
    [InlineData("alice tok models=gemini/../x", "line 1: 'models' must be")]
    [InlineData("alice sha256:abc", "line 1: after 'sha256:' must come")]
    [InlineData("alice tok burst=3", "line 1: unknown attribute 'burst'")]
    public void A_bad_line_is_named_and_its_token_is_not(string text, string message)
    {
        var error = Assert.Throws<ListFileFormatException>(() => ClientList.Parse(text));
        Assert.StartsWith(message, error.Message);
        Assert.DoesNotContain("tok ", error.Message);
    }

    [Fact]
    public void A_token_identifies_its_client_and_an_AUTH_TOKEN_the_unnamed_one_without_allocating()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "alice alice-token rpm=3\nbob bob-token\n");
        try
        {
            var options = Options.Create(new FrontendOptions { AuthTokens = "shared-token", ClientsFile = path });
            using var file = new ClientsFile(options, TimeProvider.System, NullLogger<ClientsFile>.Instance);
            var tokens = new ClientTokens(options, file);

            Assert.Equal("alice", tokens.Identify("alice-token")?.Name);
            Assert.Equal("bob", tokens.Identify("bob-token")?.Name);
            Assert.Same(ClientPolicy.Unnamed, tokens.Identify("shared-token"));
            Assert.Null(tokens.Identify("alice-token2"));
            Assert.Null(tokens.Identify(""));

            tokens.Identify("bob-token"); // warm
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++)
            {
                tokens.Identify("bob-token");
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
