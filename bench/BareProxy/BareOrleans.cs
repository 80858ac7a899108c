// The least Orleans the gateway's design asks of a frontend, for bench/memory.sh's "bare-silo" and "bare-client"
// modes: a key that comes from a grain on every request instead of from a variable. ORLEANS=silo hosts the grain in
// the proxy's process (as the embedded gateway does), ORLEANS=client makes the proxy a client of another BareProxy
// process started with ORLEANS=silo (as a cluster frontend is). With neither, none of this is compiled or loaded, so
// the plain bare proxy stays the framework's floor.
//
// Environment: ORLEANS (silo or client), ORLEANS_SILO_PORT (11111), ORLEANS_GATEWAY_PORT (30000).
namespace GeminiParty.BareProxy;

public interface IBareKeyGrain : IGrainWithIntegerKey
{
    [Alias("Next")]
    ValueTask<string> NextAsync();
}

public sealed class BareKeyGrain(IConfiguration configuration) : Grain, IBareKeyGrain
{
    private readonly string key = configuration["UPSTREAM_KEY"] ?? throw new InvalidOperationException("set UPSTREAM_KEY");

    public ValueTask<string> NextAsync() => ValueTask.FromResult(key);
}

public static class BareOrleans
{
    public static void Add(WebApplicationBuilder builder, string mode)
    {
        var siloPort = int.Parse(builder.Configuration["ORLEANS_SILO_PORT"] ?? "11111");
        var gatewayPort = int.Parse(builder.Configuration["ORLEANS_GATEWAY_PORT"] ?? "30000");
        switch (mode)
        {
            case "silo":
                builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort, gatewayPort));
                break;
            case "client":
                builder.UseOrleansClient(client => client.UseLocalhostClustering(gatewayPort));
                break;
            default:
                throw new InvalidOperationException($"ORLEANS is silo or client, not '{mode}'");
        }
    }

    public static Func<ValueTask<string>> KeySource(IServiceProvider services)
    {
        // a client knows the cluster's grain types only once it has connected, when the host has started
        var grains = services.GetRequiredService<IGrainFactory>();
        IBareKeyGrain? grain = null;
        return () => (grain ??= grains.GetGrain<IBareKeyGrain>(0)).NextAsync();
    }
}
