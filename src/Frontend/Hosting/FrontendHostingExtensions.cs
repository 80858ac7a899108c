using System.Net;
using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Live;
using GeminiParty.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace GeminiParty.Frontend.Hosting;

/// <summary>Wires the frontend: configuration, the Orleans side (embedded silo or cluster client), and the forwarder.</summary>
public static class FrontendHostingExtensions
{
    public static WebApplicationBuilder AddFrontend(this WebApplicationBuilder builder)
    {
        builder.Configuration.AddDotEnvFile();
        var configuration = builder.Configuration;
        var gateway = configuration.BindOrDefault<FrontendOptions>();
        if (string.IsNullOrEmpty(configuration["urls"]) && string.IsNullOrEmpty(configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls($"http://*:{gateway.Port}");
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = gateway.MaxRequestBodyBytes;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30);
            kestrel.Limits.MinRequestBodyDataRate = new(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(10));
        });

        var services = builder.Services;
        // Orleans first: hosted services stop in the reverse of their order here, so the frontend's own (the usage,
        // report and slot flushes, the pool subscription) stop while the silo or the cluster client still takes calls
        var cluster = configuration.BindOrDefault<ClusterHostingOptions>();
        if (cluster.IsCluster)
        {
            services.AddRedisStartupGate(cluster);
            // serve /healthz (and a 503 /readyz) while the client waits for the first silo, instead of not listening
            services.Configure<HostOptions>(options => options.ServicesStartConcurrently = true);
            builder.UseOrleansClient(client =>
            {
                client.Configure<ClusterOptions>(options =>
                {
                    options.ClusterId = cluster.ClusterId;
                    options.ServiceId = cluster.ServiceId;
                });
                client.UseRedisClustering(options => options.ConfigurationOptions = KeyPoolSiloExtensions.RedisConfiguration(cluster));
                // find new gateways (silos) within a second of their start: when the silo a frontend used stops soon after
                // another one started (a rolling update), a frontend that knew no other gateway yet could not be reached
                // by the pool until it had read the list again; one read of the membership table a second
                client.Configure<Orleans.Configuration.GatewayOptions>(options => options.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
                // ride out the seconds in which a dead silo's calls are lost and the pool moves
                client.AddOutgoingGrainCallFilter<KeyPoolCallRetryFilter>();
            });
        }
        else
        {
            builder.UseOrleans(silo => silo.AddKeyPool(configuration));
        }

        // SIGTERM: stop accepting, let in-flight requests and streams finish for up to 30 s (Kubernetes grants 50)
        services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(30));
        services.AddOptions<FrontendOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FrontendOptions>, FrontendOptionsValidator>();
        services.AddKeyPoolOptions(configuration);
        services.AddCors();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ClientsFile>();
        services.AddSingleton<ClientTokens>();
        services.AddSingleton<ClientGrains>();
        services.AddSingleton<ClientAdmission>();
        services.AddSingleton<ClientUsageReporter>();
        services.AddHostedService(provider => provider.GetRequiredService<ClientUsageReporter>());
        services.AddSingleton<ClientSlotLeases>();
        services.AddHostedService(provider => provider.GetRequiredService<ClientSlotLeases>());
        services.AddSingleton<AdminToken>();
        services.TryAddSingleton<UpstreamKeySource>();
        services.AddSingleton<UpstreamKeySecrets>();
        services.AddSingleton(_ => new HttpMessageInvoker(CreateUpstreamHandler()));
        services.AddHttpForwarder();
        services.AddSingleton<UpstreamForwarder>();
        services.AddSingleton<UpstreamAttempt>();
        services.AddSingleton<ErrorAnswers>();
        services.AddSingleton<KeyChooser>();
        services.AddSingleton<AttemptOutcomes>();
        services.AddSingleton<RelayCompletion>();
        services.AddSingleton<CapacityWaits>();
        services.AddSingleton<ModelFallbacks>();
        services.AddSingleton<KeyPoolReference>();
        services.AddSingleton<KeyLeases>();
        services.AddSingleton(provider => provider.GetRequiredService<KeyLeases>().Withdrawals);
        services.AddSingleton<KnownModels>();
        services.AddSingleton<GeminiParty.Frontend.Resources.ResourceAffinity>();
        services.AddSingleton<GeminiParty.Frontend.Resources.KeyResourceCounts>();
        services.AddSingleton<GeminiParty.Frontend.Resources.MergedResourceList>();
        services.AddHostedService<PoolSubscription>();
        services.AddSingleton<AttemptReporter>();
        services.AddHostedService(provider => provider.GetRequiredService<AttemptReporter>());
        services.AddLiveApi();
        builder.AddFrontendObservability();

        return builder;
    }

    /// <summary>
    /// One pooled handler for every upstream call: no cookies, redirects or decompression (bodies pass through as
    /// bytes), unlimited connections per server, and connections recycled so DNS changes are picked up.
    /// </summary>
    private static SocketsHttpHandler CreateUpstreamHandler() => new()
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        // HTTPS_PROXY / NO_PROXY from the environment are honoured: clusters often reach Google through an egress proxy
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = null, // no traceparent toward Google, whatever the host's tracing setup
    };
}
