using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Serialization;
using Orleans.Storage;

namespace GeminiParty.Hosting.Tests;

/// <summary>Embedded mode's grain storage keeps what a storage must: a copy, versions, and the last word of one writer.</summary>
public sealed class ProcessGrainStorageTests
{
    private static readonly GrainId Grain = GrainId.Create("client", "alice");

    private static ProcessGrainStorage NewStorage(TimeProvider? time = null, TimeSpan? entryExpiry = null)
    {
        var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>());
        return time is null ? new ProcessGrainStorage(serializer) : new ProcessGrainStorage(serializer, time, entryExpiry);
    }

    [Fact]
    public async Task A_written_state_reads_back_as_a_copy_that_later_changes_of_the_grain_do_not_reach()
    {
        var storage = NewStorage();
        var written = new GrainState<UsageCounts>(new UsageCounts { Requests = 3, TotalTokens = 120 });
        await storage.WriteStateAsync("usage", Grain, written);
        written.State!.Requests = 99; // the grain goes on counting in its own object

        var read = new GrainState<UsageCounts>(new UsageCounts());
        await storage.ReadStateAsync("usage", Grain, read);

        Assert.True(read.RecordExists);
        Assert.Equal(3, read.State!.Requests);
        Assert.Equal(120, read.State!.TotalTokens);
        Assert.Equal(written.ETag, read.ETag);
    }

    [Fact]
    public async Task A_write_from_a_version_that_is_no_longer_the_latest_is_refused_and_changes_nothing()
    {
        var storage = NewStorage();
        var first = new GrainState<UsageCounts>(new UsageCounts { Requests = 1 });
        await storage.WriteStateAsync("usage", Grain, first);
        var stale = new GrainState<UsageCounts>(new UsageCounts { Requests = 5 }) { ETag = first.ETag };
        first.State!.Requests = 2;
        await storage.WriteStateAsync("usage", Grain, first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("usage", Grain, stale));
        var read = new GrainState<UsageCounts>(new UsageCounts());
        await storage.ReadStateAsync("usage", Grain, read);
        Assert.Equal(2, read.State!.Requests);
    }

    [Fact]
    public async Task A_cleared_state_is_gone_and_other_states_of_the_grain_stay()
    {
        var storage = NewStorage();
        var usage = new GrainState<UsageCounts>(new UsageCounts { Requests = 1 });
        var other = new GrainState<UsageCounts>(new UsageCounts { Requests = 7 });
        await storage.WriteStateAsync("usage", Grain, usage);
        await storage.WriteStateAsync("other", Grain, other);

        await storage.ClearStateAsync("usage", Grain, usage);

        var read = new GrainState<UsageCounts>(new UsageCounts());
        await storage.ReadStateAsync("usage", Grain, read);
        Assert.False(read.RecordExists);
        Assert.Equal(0, read.State!.Requests);
        await storage.ReadStateAsync("other", Grain, read);
        Assert.Equal(7, read.State!.Requests);
    }

    [Fact]
    public async Task A_state_past_its_expiry_reads_as_absent_and_a_write_starts_its_time_again()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-05T00:00:00Z"));
        var storage = NewStorage(time, TimeSpan.FromDays(56));
        var state = new GrainState<UsageCounts>(new UsageCounts { Requests = 1 });
        await storage.WriteStateAsync("interaction", Grain, state);

        time.Advance(TimeSpan.FromDays(40));
        await storage.WriteStateAsync("interaction", Grain, state); // a refresh: 56 days from now
        time.Advance(TimeSpan.FromDays(40));
        var read = new GrainState<UsageCounts>(new UsageCounts());
        await storage.ReadStateAsync("interaction", Grain, read);
        Assert.True(read.RecordExists);

        time.Advance(TimeSpan.FromDays(17));
        read = new GrainState<UsageCounts>(new UsageCounts());
        await storage.ReadStateAsync("interaction", Grain, read);
        Assert.False(read.RecordExists);
        Assert.Equal(0, read.State!.Requests);
        // the grain that still holds the old version may start again from nothing, as after a Redis TTL
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("interaction", Grain, state));
        await storage.WriteStateAsync("interaction", Grain, new GrainState<UsageCounts>(new UsageCounts { Requests = 2 }));
    }

    [Fact]
    public async Task Expired_states_nobody_reads_again_leave_the_process()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-05T00:00:00Z"));
        var storage = NewStorage(time, TimeSpan.FromDays(56));
        for (var i = 0; i < 1000; i++)
        {
            await storage.WriteStateAsync("interaction", GrainId.Create("interaction", $"interactions/v1_{i}"),
                new GrainState<UsageCounts>(new UsageCounts { Requests = i }));
        }
        Assert.Equal(1000, storage.Count);

        time.Advance(TimeSpan.FromDays(57));
        await storage.WriteStateAsync("interaction", GrainId.Create("interaction", "interactions/v1_new"), new GrainState<UsageCounts>(new UsageCounts()));

        Assert.Equal(1, storage.Count);
    }

    [Fact]
    public async Task Without_an_expiry_states_stay_for_the_life_of_the_process()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-05T00:00:00Z"));
        var storage = NewStorage(time);
        await storage.WriteStateAsync("usage", Grain, new GrainState<UsageCounts>(new UsageCounts { Requests = 4 }));

        time.Advance(TimeSpan.FromDays(400));
        await storage.WriteStateAsync("usage", GrainId.Create("client", "bob"), new GrainState<UsageCounts>(new UsageCounts()));
        var read = new GrainState<UsageCounts>(new UsageCounts());
        await storage.ReadStateAsync("usage", Grain, read);

        Assert.True(read.RecordExists);
        Assert.Equal(4, read.State!.Requests);
    }
}
