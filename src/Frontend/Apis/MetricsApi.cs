using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Observability;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// <c>GET /metrics</c>: Prometheus text from OpenTelemetry. It shows per-key use, so like /rotation-status it needs a
/// client token (Prometheus sends one with <c>authorization: {type: Bearer, credentials: ...}</c>). A scrape refreshes
/// the key gauges from the pool first when they are older than a few seconds.
/// </summary>
public static class MetricsApi
{
    public const string Path = "/metrics";

    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        var tokens = app.ServiceProvider.GetRequiredService<ClientTokens>();
        var gauges = app.ServiceProvider.GetRequiredService<PoolGauges>();
        app.MapPrometheusScrapingEndpoint(Path, meterProvider: null, configureBranchedPipeline: pipeline => pipeline.Use(async (context, next) =>
            {
                if (!tokens.IsValid(context.Request))
                {
                    await ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status401Unauthorized,
                        "Missing or invalid client token: /metrics needs one of AUTH_TOKEN, e.g. 'Authorization: Bearer <token>' (Prometheus: authorization.credentials).");
                    return;
                }
                await gauges.RefreshIfStaleAsync();
                await next(context);
            }), optionsName: null)
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head])) // else any method scrapes
            .DisableHttpMetrics();
        return app;
    }
}
