using GeminiParty.Frontend.Observability;
using GeminiParty.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace GeminiParty.Frontend.Hosting;

/// <summary>Wires what operators see: log format and the request log, OpenTelemetry metrics, cluster membership.</summary>
public static class ObservabilityHostingExtensions
{
    private const string HttpClientMeter = "System.Net.Http";

    /// <summary>Meters exported on /metrics besides the gateway's own.</summary>
    private static readonly string[] ForeignMeters =
    [
        "Microsoft.Orleans",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        HttpClientMeter,
        "System.Runtime",
    ];

    /// <summary>
    /// HttpClient's instruments recorded on every upstream call. gemini_party_upstream_duration_seconds and
    /// gemini_party_upstream_attempts_total already measure those calls, labelled by model and key; dropped, they are not
    /// recorded at all, which saves CPU on every request (docs/benchmarks.md). Its connection instruments stay.
    /// </summary>
    private static readonly HashSet<string> PerRequestHttpClientInstruments =
        ["http.client.request.duration", "http.client.active_requests", "http.client.request.time_in_queue"];

    /// <summary>
    /// Series kept per instrument of the foreign meters. The SDK allocates room for its default of 2,000 per instrument
    /// up front, megabytes over all the instruments of these meters (docs/benchmarks.md); theirs carry a few labels each.
    /// </summary>
    private const int ForeignCardinalityLimit = 100;

    public static WebApplicationBuilder AddFrontendObservability(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.BindOrDefault<ObservabilityOptions>();
        builder.Services.AddOptions<ObservabilityOptions>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ObservabilityOptions>, ObservabilityOptionsValidator>();
        if (options.IsJson)
        {
            builder.Logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.IncludeScopes = false;
            });
        }
        if (!options.LogRequests)
        {
            builder.Logging.AddFilter(RequestLog.Category, LogLevel.None);
        }

        builder.Services.AddSingleton<ClusterMembership>();
        builder.Services.AddSingleton<RequestLog>();
        builder.Services.AddSingleton<PoolGauges>();
        builder.Services.AddSingleton<FrontendMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(FrontendMetrics.MeterName)
            .AddMeter(ForeignMeters)
            .AddView(instrument => instrument.Meter.Name switch
            {
                FrontendMetrics.MeterName => null,
                HttpClientMeter when PerRequestHttpClientInstruments.Contains(instrument.Name) => MetricStreamConfiguration.Drop,
                _ => new MetricStreamConfiguration { CardinalityLimit = ForeignCardinalityLimit },
            })
            .AddPrometheusExporter());
        return builder;
    }
}
