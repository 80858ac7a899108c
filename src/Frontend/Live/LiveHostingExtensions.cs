namespace GeminiParty.Frontend.Live;

/// <summary>Registers what the Live API needs; <see cref="LiveApi.MapLiveApi"/> maps it.</summary>
public static class LiveHostingExtensions
{
    public static IServiceCollection AddLiveApi(this IServiceCollection services)
    {
        services.AddSingleton<LiveUpstream>();
        services.AddSingleton<LiveSessions>();
        services.AddSingleton<LiveProxy>();
        services.AddSingleton<LiveRevocations>();
        services.AddHostedService<LiveSessionReporter>();
        services.AddTransient<IStartupFilter, LivePathNormalizer>();
        return services;
    }
}
