using GeminiParty.Hosting;
using Orleans.Runtime;

namespace GeminiParty.Silo;

/// <summary>The cluster silo: hosts the pool and key grains, and answers probes over HTTP on PORT (default 8080).</summary>
public static class SiloHostingExtensions
{
    public static WebApplicationBuilder AddKeyPoolSilo(this WebApplicationBuilder builder)
    {
        builder.Configuration.AddDotEnvFile();
        var port = builder.Configuration.GetValue("PORT", 8080);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls($"http://*:{port}");
        }
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddRedisStartupGate(builder.Configuration.BindOrDefault<ClusterHostingOptions>());
        builder.UseOrleans(silo => silo.AddKeyPool(builder.Configuration));
        // the silo flushes counters on shutdown; give it the time to do so
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(25));
        return builder;
    }

    /// <summary><c>/healthz</c>: the process is alive. <c>/readyz</c>: the silo is active and not shutting down.</summary>
    public static WebApplication MapSiloHealth(this WebApplication app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" }));
        app.MapGet("/readyz", (ISiloStatusOracle oracle, IHostApplicationLifetime lifetime) =>
            oracle.CurrentStatus == SiloStatus.Active && !lifetime.ApplicationStopping.IsCancellationRequested
                ? Results.Ok(new { status = "ready", silo = oracle.SiloAddress.ToString() })
                : Results.Json(new { status = oracle.CurrentStatus.ToString() }, statusCode: StatusCodes.Status503ServiceUnavailable));
        return app;
    }
}
