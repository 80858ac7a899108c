using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace GeminiParty.Hosting;

/// <summary>
/// Cluster mode: holds the start of the host until Redis answers a PING, saying every few seconds what it waits for.
/// Orleans would otherwise give up after one 5 s attempt and crash the process with a stack trace, so a silo or a
/// frontend started before Redis (compose without health gates, a Redis pod being rescheduled) would crash-loop
/// instead of joining as soon as Redis is there. Register it before UseOrleans / UseOrleansClient: hosted services
/// start in registration order.
/// </summary>
public sealed partial class RedisStartupGate(ConfigurationOptions redis, ILogger<RedisStartupGate> logger) : IHostedService
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(2);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = redis.Clone();
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 0;
        options.ConnectTimeout = (int)RetryEvery.TotalMilliseconds;
        var target = string.Join(",", options.EndPoints);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
                await connection.GetDatabase().PingAsync();
                if (attempt > 1)
                {
                    LogReachable(logger, target, attempt);
                }
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogUnreachable(logger, ex, target, Describe(ex), RetryEvery.TotalSeconds);
            }
            await Task.Delay(RetryEvery, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The root cause, without StackExchange.Redis' advice about abortConnect (which does not apply here).</summary>
    private static string Describe(Exception ex)
    {
        var message = ex.GetBaseException().Message.Split('\n')[0];
        return message.Contains("abortConnect", StringComparison.OrdinalIgnoreCase) ? "no connection could be made" : message;
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning,
        Message = "Redis at {Target} (REDIS_CONNECTION_STRING) is not reachable: {Error}. Retrying every {Seconds} s; the process joins the cluster once Redis answers")]
    private static partial void LogUnreachable(ILogger logger, Exception exception, string target, string error, double seconds);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Redis at {Target} answered after {Attempts} attempts")]
    private static partial void LogReachable(ILogger logger, string target, int attempts);
}

public static class RedisStartupGateExtensions
{
    /// <summary>In cluster mode, makes the host wait for Redis before the services registered after this call start.</summary>
    public static IServiceCollection AddRedisStartupGate(this IServiceCollection services, ClusterHostingOptions cluster)
    {
        if (cluster.IsCluster)
        {
            var redis = KeyPoolSiloExtensions.RedisConfiguration(cluster);
            services.AddHostedService(provider => new RedisStartupGate(redis, provider.GetRequiredService<ILogger<RedisStartupGate>>()));
        }
        return services;
    }
}
