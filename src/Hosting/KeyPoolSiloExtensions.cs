using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;

namespace GeminiParty.Hosting;

/// <summary>The silo configuration shared by the cluster silo (src/Silo) and the frontend's embedded mode.</summary>
public static class KeyPoolSiloExtensions
{
    /// <summary>
    /// Hosts the key pool: Redis membership and storage when REDIS_CONNECTION_STRING is set, otherwise localhost
    /// clustering with in-memory state.
    /// </summary>
    public static ISiloBuilder AddKeyPool(this ISiloBuilder silo, IConfiguration configuration)
    {
        var cluster = configuration.BindOrDefault<ClusterHostingOptions>();
        silo.Services.AddKeyPoolOptions(configuration);
        silo.Services.TryAddKeyedSingleton(ServiceKeys.PoolClock, TimeProvider.System);
        silo.Services.TryAddSingleton<UpstreamKeySource>();
        silo.Services.TryAddSingleton<IKeyProber, HttpKeyProber>();
        silo.Services.AddSingleton(services =>
        {
            // the pool on this silo follows this silo's key file
            var source = services.GetRequiredService<UpstreamKeySource>();
            var aliases = new PoolKeyAliases(source.Current.Configured);
            source.Changed += set => aliases.Update(set.Configured);
            return aliases;
        });
        silo.Services.AddOptions<KeyPoolOptions>().Bind(configuration).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<KeyPoolOptions>, KeyPoolOptionsValidator>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, PoolShutdownNotice>();
        silo.Configure<GrainDirectoryOptions>(SizeDirectoryCache);

        if (!cluster.IsCluster)
        {
            silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, null, cluster.ServiceId, cluster.ClusterId);
            // kept in this process (ProcessGrainStorage), in Orleans' own binary format rather than its default JSON: memory
            // state never outlives the process, and the JSON serializer, once run, loads System.Private.Xml and
            // System.Data.Common (docs/benchmarks.md, memory)
            foreach (var name in (string[])[StorageNames.KeyPool, StorageNames.Clients, StorageNames.Resources, StorageNames.Interactions])
            {
                silo.Services.AddGrainStorage(name, static (services, name) => new ProcessGrainStorage(
                    new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()),
                    services.GetRequiredKeyedService<TimeProvider>(ServiceKeys.PoolClock),
                    // interaction records expire as Redis expires them in cluster mode (below)
                    name == StorageNames.Interactions ? InteractionRecordExpiry : null));
            }
            return silo;
        }
        return silo.UseRedis(cluster);
    }

    /// <summary>
    /// How long storage (Redis, or the embedded process's own) keeps an interaction's record after its last write: a
    /// little longer than the binding itself (55 days from the last answer naming it, as long as Google keeps a stored
    /// interaction on its paid tier).
    /// </summary>
    public static readonly TimeSpan InteractionRecordExpiry = TimeSpan.FromDays(56);

    /// <summary>
    /// Cluster mode: Redis membership and storage. A method of its own so that an embedded process, which never calls it,
    /// never compiles it and so never loads the Redis client and Orleans' Redis providers.
    /// </summary>
    private static ISiloBuilder UseRedis(this ISiloBuilder silo, ClusterHostingOptions cluster)
    {
        var redis = RedisConfiguration(cluster);
        silo.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = cluster.ClusterId;
            options.ServiceId = cluster.ServiceId;
        });
        if (!string.IsNullOrWhiteSpace(cluster.PodName))
        {
            silo.Configure<SiloOptions>(options => options.SiloName = cluster.PodName);
        }
        silo.ConfigureEndpoints(cluster.AdvertisedAddress, cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: true);
        silo.UseRedisClustering(options => options.ConfigurationOptions = redis);
        silo.AddRedisGrainStorage(StorageNames.KeyPool, options => options.ConfigurationOptions = redis);
        silo.AddRedisGrainStorage(StorageNames.Clients, options => options.ConfigurationOptions = redis);
        silo.AddRedisGrainStorage(StorageNames.Resources, options =>
        {
            options.ConfigurationOptions = redis;
            options.DeleteStateOnClear = true; // a deleted or expired resource's record goes, rather than stay as an empty entry
        });
        silo.AddRedisGrainStorage(StorageNames.Interactions, options =>
        {
            options.ConfigurationOptions = redis;
            // Redis drops a record the gateway never reads again (most interactions are not named after their
            // conversation ends); each write, a bind or its refresh, starts the count again
            options.EntryExpiry = InteractionRecordExpiry;
            options.DeleteStateOnClear = true;
        });
        // Orleans' binary format, as embedded mode keeps states: a third of the JSON default's size, per turn
        silo.Services.AddOptions<Orleans.Persistence.RedisStorageOptions>(StorageNames.Interactions)
            .Configure<Serializer>((options, serializer) => options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));
        silo.Configure<ClusterMembershipOptions>(ConfigureFastFailureDetection);
        return silo;
    }

    /// <summary>Options every process validates at start, whatever it hosts.</summary>
    public static IServiceCollection AddKeyPoolOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<UpstreamKeysOptions>().Bind(configuration).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<UpstreamKeysOptions>, UpstreamKeysOptionsValidator>());
        services.AddOptions<ClusterHostingOptions>().Bind(configuration).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterHostingOptions>, ClusterHostingOptionsValidator>());
        return services;
    }

    /// <summary>Parses REDIS_CONNECTION_STRING so that a missing Redis means retrying, not crashing.</summary>
    public static ConfigurationOptions RedisConfiguration(ClusterHostingOptions cluster)
    {
        var redis = ConfigurationOptions.Parse(cluster.RedisConnectionString!);
        redis.AbortOnConnectFail = false;
        return redis;
    }

    /// <summary>
    /// The silo caches where grains live. Its default room for a million entries is allocated up front
    /// (docs/benchmarks.md, memory); this cluster has a few grains per upstream key and client.
    /// </summary>
    private static void SizeDirectoryCache(GrainDirectoryOptions options) => options.CacheSize = 20_000;

    /// <summary>
    /// Declares a dead silo in a few seconds instead of the default ~30 s, so the pool grain moves quickly when the
    /// silo hosting it dies: a silo that misses 2 probes of 2 s each is voted dead by one peer.
    /// </summary>
    private static void ConfigureFastFailureDetection(ClusterMembershipOptions options)
    {
        options.ProbeTimeout = TimeSpan.FromSeconds(2);
        options.NumMissedProbesLimit = 2;
        options.NumVotesForDeathDeclaration = 1;
        options.TableRefreshTimeout = TimeSpan.FromSeconds(10);
        options.DefunctSiloCleanupPeriod = TimeSpan.FromMinutes(10);
        options.DefunctSiloExpiration = TimeSpan.FromHours(1);
    }
}
