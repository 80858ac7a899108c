namespace GeminiParty.Grains.Tests;

/// <summary>A resource's binding: the first owner stays, polls do not rewrite it, and it lapses at its expiry.</summary>
[Collection(PoolClusterCollection.Name)]
public sealed class ResourceGrainTests(PoolClusterFixture fixture)
{
    private IResourceGrain NewResource() => fixture.Grains.GetGrain<IResourceGrain>($"files/{Guid.NewGuid():N}");

    [Fact]
    public async Task A_binding_is_kept_for_its_owner_and_another_key_cannot_take_a_live_resource()
    {
        var resource = NewResource();
        Assert.Null(await resource.GetAsync());

        var expires = fixture.Clock.GetUtcNow().AddHours(48);
        await resource.BindAsync(new ResourceBinding("owner-fp", expires));
        await resource.BindAsync(new ResourceBinding("other-fp", expires.AddHours(1)));

        var binding = await resource.GetAsync();
        Assert.Equal("owner-fp", binding!.Fingerprint);
        Assert.Equal(expires, binding.ExpiresAt);
    }

    [Fact]
    public async Task An_expired_binding_reads_as_none_and_a_deleted_one_is_forgotten()
    {
        var resource = NewResource();
        await resource.BindAsync(new ResourceBinding("owner-fp", fixture.Clock.GetUtcNow().AddDays(3)));
        var second = NewResource();
        await second.BindAsync(new ResourceBinding("owner-fp", fixture.Clock.GetUtcNow().AddMinutes(5)));
        await second.ForgetAsync();
        Assert.Null(await second.GetAsync());

        // the pool clock is shared with the other tests: a binding already past its expiry stands for one that lapsed
        var lapsed = NewResource();
        await lapsed.BindAsync(new ResourceBinding("owner-fp", fixture.Clock.GetUtcNow().AddSeconds(-1)));
        Assert.Null(await lapsed.GetAsync());
        Assert.NotNull(await resource.GetAsync()); // a longer-lived one is still there
    }

    [Fact]
    public async Task A_caches_later_expiry_is_kept_however_little_it_moved_while_a_polled_resource_moves_past_an_hour_only()
    {
        var now = fixture.Clock.GetUtcNow();
        var cache = fixture.Grains.GetGrain<IResourceGrain>($"cachedContents/{Guid.NewGuid():N}");
        await cache.BindAsync(new ResourceBinding("owner-fp", now.AddMinutes(5)));
        await cache.BindAsync(new ResourceBinding("owner-fp", now.AddMinutes(35))); // caches.update with a longer ttl
        Assert.Equal(now.AddMinutes(35), (await cache.GetAsync())!.ExpiresAt);

        var batch = fixture.Grains.GetGrain<IResourceGrain>($"batches/{Guid.NewGuid():N}");
        await batch.BindAsync(new ResourceBinding("owner-fp", now.AddDays(7)));
        await batch.BindAsync(new ResourceBinding("owner-fp", now.AddDays(7).AddMinutes(30))); // a poll: no write
        Assert.Equal(now.AddDays(7), (await batch.GetAsync())!.ExpiresAt);
    }
}
