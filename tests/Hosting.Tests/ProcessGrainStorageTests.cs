using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace GeminiParty.Hosting.Tests;

/// <summary>Embedded mode's grain storage keeps what a storage must: a copy, versions, and the last word of one writer.</summary>
public sealed class ProcessGrainStorageTests
{
    private static readonly GrainId Grain = GrainId.Create("client", "alice");

    private static ProcessGrainStorage NewStorage()
    {
        var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        return new ProcessGrainStorage(new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()));
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
}
