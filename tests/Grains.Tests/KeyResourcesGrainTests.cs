namespace GeminiParty.Grains.Tests;

/// <summary>A key's live resources, counted per collection as its resource grains bind, forget and lapse.</summary>
[Collection(PoolClusterCollection.Name)]
public sealed class KeyResourcesGrainTests(PoolClusterFixture fixture)
{
    [Fact]
    public async Task A_key_counts_what_it_made_per_collection_and_stops_counting_what_was_deleted_or_expired()
    {
        var owner = $"fp-{Guid.NewGuid():N}"[..16];
        var other = $"fp-{Guid.NewGuid():N}"[..16];
        var now = fixture.Clock.GetUtcNow();
        var file = fixture.Grains.GetGrain<IResourceGrain>($"files/{Guid.NewGuid():N}"[..20]);
        var video = fixture.Grains.GetGrain<IResourceGrain>($"models/veo/operations/{Guid.NewGuid():N}");
        var cache = fixture.Grains.GetGrain<IResourceGrain>($"cachedContents/{Guid.NewGuid():N}");
        var upload = fixture.Grains.GetGrain<IResourceGrain>($"uploads/{Guid.NewGuid():N}");
        await file.BindAsync(new ResourceBinding(owner, now.AddHours(48)));
        await file.BindAsync(new ResourceBinding(owner, now.AddHours(48))); // a get of the same file: counted once
        await video.BindAsync(new ResourceBinding(owner, now.AddHours(48)));
        await cache.BindAsync(new ResourceBinding(owner, now.AddHours(1)));
        await upload.BindAsync(new ResourceBinding(owner, now.AddHours(48))); // an upload session is no resource to list
        var othersFile = fixture.Grains.GetGrain<IResourceGrain>($"files/{Guid.NewGuid():N}"[..20]);
        await othersFile.BindAsync(new ResourceBinding(other, now.AddHours(48)));
        var holders = fixture.Grains.GetGrain<IResourceHoldersGrain>(GrainIds.DefaultPool);
        Assert.Subset((await holders.GetAsync()).ToHashSet(), new HashSet<string> { owner, other }); // the status asks only these

        var counts = await fixture.Grains.GetGrain<IKeyResourcesGrain>(owner).GetCountsAsync();
        Assert.Equal(1, counts.Of("files"));
        Assert.Equal(1, counts.Of("operations"));
        Assert.Equal(1, counts.Of("cachedContents"));
        Assert.Equal(3, counts.Total);

        await cache.ForgetAsync();
        // the pool clock is shared with the other tests: an entry already past its expiry stands for one that lapsed
        await fixture.Grains.GetGrain<IKeyResourcesGrain>(owner).AddAsync($"batches/{Guid.NewGuid():N}", now.AddSeconds(-1));

        var after = await fixture.Grains.GetGrain<IKeyResourcesGrain>(owner).GetCountsAsync();
        Assert.Equal(0, after.Of("cachedContents"));
        Assert.Equal(0, after.Of("batches"));
        Assert.Equal(2, after.Total);
        Assert.Equal(1, (await fixture.Grains.GetGrain<IKeyResourcesGrain>(other).GetCountsAsync()).Total);
        await othersFile.ForgetAsync();
        Assert.DoesNotContain(other, await holders.GetAsync()); // its last resource went: no longer asked
        Assert.Contains(owner, await holders.GetAsync());
    }

    [Fact]
    public async Task A_record_nobody_names_after_its_expiry_leaves_storage_when_its_key_next_changes()
    {
        var owner = $"fp-{Guid.NewGuid():N}"[..16];
        var name = $"files/{Guid.NewGuid():N}"[..20];
        await fixture.Grains.GetGrain<IResourceGrain>(name).BindAsync(new ResourceBinding(owner, fixture.Clock.GetUtcNow().AddHours(2)));
        // the record leaves memory, as an idle one does after two minutes, and nobody names the file again
        await fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero, TestContext.Current.CancellationToken);
        fixture.Clock.Advance(TimeSpan.FromHours(3));
        var record = IResourceGrain.RecordOf(name);
        Assert.False(fixture.ResourceStorage.WasCleared(record));

        // the key's next change drops the lapsed entry from its count and tells the record, which clears itself
        await fixture.Grains.GetGrain<IKeyResourcesGrain>(owner).AddAsync($"files/{Guid.NewGuid():N}"[..20], fixture.Clock.GetUtcNow().AddHours(48));

        for (var waited = 0; !fixture.ResourceStorage.WasCleared(record) && waited < 5000; waited += 20)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken); // a one-way call: nothing to await
        }
        Assert.True(fixture.ResourceStorage.WasCleared(record));
        Assert.Equal(1, (await fixture.Grains.GetGrain<IKeyResourcesGrain>(owner).GetCountsAsync()).Of("files"));
    }

    [Fact]
    public async Task A_key_idle_past_many_expiries_clears_their_records_a_few_hundred_per_change()
    {
        var owner = $"fp-{Guid.NewGuid():N}"[..16];
        var names = Enumerable.Range(0, KeyResourcesGrain.MaxClearedPerChange + 44).Select(_ => $"files/{Guid.NewGuid():N}"[..20]).ToArray();
        var expires = fixture.Clock.GetUtcNow().AddHours(2);
        await Task.WhenAll(names.Select(name => fixture.Grains.GetGrain<IResourceGrain>(name).BindAsync(new ResourceBinding(owner, expires))));
        await fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero, TestContext.Current.CancellationToken);
        fixture.Clock.Advance(TimeSpan.FromHours(3));
        var keyResources = fixture.Grains.GetGrain<IKeyResourcesGrain>(owner);
        int Cleared() => names.Count(name => fixture.ResourceStorage.WasCleared(IResourceGrain.RecordOf(name)));

        await keyResources.AddAsync($"files/{Guid.NewGuid():N}"[..20], fixture.Clock.GetUtcNow().AddHours(48));
        await EventuallyAsync(() => Cleared() >= KeyResourcesGrain.MaxClearedPerChange);
        await Task.Delay(300, TestContext.Current.CancellationToken); // one-way calls: give any beyond the cap time to show
        Assert.Equal(KeyResourcesGrain.MaxClearedPerChange, Cleared());

        await keyResources.AddAsync($"files/{Guid.NewGuid():N}"[..20], fixture.Clock.GetUtcNow().AddHours(48));
        await EventuallyAsync(() => Cleared() == names.Length);
        Assert.Equal(names.Length, Cleared());
        Assert.Equal(2, (await keyResources.GetCountsAsync()).Of("files")); // the lapsed ones never counted meanwhile
    }

    private static async Task EventuallyAsync(Func<bool> done)
    {
        for (var waited = 0; !done() && waited < 10_000; waited += 20)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
