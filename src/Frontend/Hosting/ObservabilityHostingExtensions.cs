using GeminiParty.Frontend.Observability;

namespace GeminiParty.Frontend.Hosting;

/// <summary>Wires what operators see: cluster membership for /rotation-status.</summary>
public static class ObservabilityHostingExtensions
{
    public static WebApplicationBuilder AddGatewayObservability(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ClusterMembership>();
        return builder;
    }
}
