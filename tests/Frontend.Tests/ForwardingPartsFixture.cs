using GeminiParty.Frontend.Forwarding;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// A frontend of its own (embedded silo, fake upstream) whose forwarding parts the tests call one at a time, as the
/// attempt loop does: cooldowns and withdrawals they cause stay out of the shared fixtures.
/// </summary>
public sealed class ForwardingPartsFixture : FrontendFixture
{
    public T Part<T>() where T : notnull => Services.GetRequiredService<T>();

    public IKeyPoolGrain Pool => Part<KeyPoolReference>().Reference;

    /// <summary>A request context whose answer the test reads back from <see cref="ResponseText"/>.</summary>
    public static DefaultHttpContext NewContext()
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        return context;
    }

    public static string ResponseText(HttpContext context) =>
        System.Text.Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());

    public static UpstreamCall NativeCall(string model) =>
        new(ApiSurface.GeminiNative, HttpMethod.Post, $"v1beta/models/{model}:generateContent", model, default, Streaming: false);

    /// <summary>Leases keys of <paramref name="model"/> until every key of the pool has been seen once.</summary>
    public async Task<KeyAlias[]> EveryKeyAsync(string model)
    {
        var seen = new Dictionary<int, KeyAlias>();
        for (var i = 0; i < Keys.Length * 4 && seen.Count < Keys.Length; i++)
        {
            var key = (await Part<KeyLeases>().NextAsync(model, null)).Key!;
            seen.TryAdd(key.Index, key);
        }
        return seen.Values.OrderBy(key => key.Index).ToArray();
    }
}

[CollectionDefinition(Name)]
public sealed class ForwardingPartsCollection : ICollectionFixture<ForwardingPartsFixture>
{
    public const string Name = "forwarding parts";
}
