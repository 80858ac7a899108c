using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace GeminiParty.Grains.Tests;

/// <summary>
/// One in-process Orleans cluster for the grain tests: real grains, in-memory grain storage, and a fake clock for the
/// pool only. Each test uses its own pool id, and so its own key grains.
/// </summary>
public sealed class PoolClusterFixture : IAsyncLifetime
{
    public const int KeyCount = 4;
    public static readonly TimeSpan BlacklistTimeout = TimeSpan.FromMinutes(5);

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero));

    public IReadOnlyList<KeyAlias> Aliases { get; } =
        UpstreamKeyList.Aliases(Enumerable.Range(0, KeyCount).Select(i => $"AIzaTestKey{i:D2}-grains-0123456789abcdefghij").ToArray());

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The silo's key list: tests that change it use pools of their own, and put it back.</summary>
    public PoolKeyAliases KeyList { get; private set; } = null!;

    public FakeKeyProber Prober { get; } = new();

    /// <summary>The silo's <c>resources</c> storage (the records and the per-key counts).</summary>
    public RecordingGrainStorage ResourceStorage { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public async ValueTask InitializeAsync()
    {
        KeyList = new PoolKeyAliases(Aliases);
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.KeyPool);
            silo.AddMemoryGrainStorage(StorageNames.Clients);
            // the resource records in the embedded process's storage, watched for the records that clear themselves
            silo.Services.AddGrainStorage(StorageNames.Resources, (services, _) => ResourceStorage = new RecordingGrainStorage(
                new GeminiParty.Hosting.ProcessGrainStorage(new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()))));
            silo.Services.AddKeyedSingleton<TimeProvider>(ServiceKeys.PoolClock, Clock);
            silo.Services.AddSingleton(KeyList);
            silo.Services.AddSingleton<IKeyProber>(Prober);
            silo.Services.Configure<KeyPoolOptions>(options =>
            {
                options.BlacklistTimeoutMs = (long)BlacklistTimeout.TotalMilliseconds;
                options.CounterFlushIntervalMs = 100;
                options.KeyCheckIntervalMs = 100;
                options.KeyProbeIntervalMs = 60_000;
            });
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>A pool of its own for one test.</summary>
    public IKeyPoolGrain NewPool() => Grains.GetGrain<IKeyPoolGrain>(Guid.NewGuid().ToString("N"));
}

[CollectionDefinition(Name)]
public sealed class PoolClusterCollection : ICollectionFixture<PoolClusterFixture>
{
    public const string Name = "pool cluster";
}
