namespace GeminiParty.FakeGemini;

/// <summary>Builds the fake's web application; shared by the in-process server and the standalone program.</summary>
internal static class FakeGeminiApp
{
    public static WebApplication Build(FakeGeminiState state, string[] args, string? forcedUrls = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(FakeGeminiApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 2L * 1024 * 1024 * 1024; // Google takes files of up to 2 GB in one upload
            kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => connection =>
            {
                state.ConnectionAccepted();
                return next(connection);
            }));
        });
        // https:// URLs with a certificate from configuration (Kestrel__Certificates__Default__Path and KeyPath):
        // benchmarks measure the hop over TLS, as the one to Google is
        builder.WebHost.UseKestrelHttpsConfiguration();
        // Hanging and held requests must not keep a test waiting for the default 30 s shutdown.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));

        if (forcedUrls is not null)
        {
            builder.WebHost.UseUrls(forcedUrls);
        }
        else if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }

        var app = builder.Build();
        app.Lifetime.ApplicationStopping.Register(state.SignalStopping);
        app.Use(new ApiRequestPipeline(state).InvokeAsync);
        app.MapResourceApi(state);
        app.MapFileSearchStoreApi(state);
        app.MapVoiceApi(state);
        app.MapInteractionApi(state);
        app.MapNativeApi(state);
        app.MapOpenAiApi(state);
        app.MapFakeControlApi(state);
        app.MapFakeLiveApi(state);
        return app;
    }
}
