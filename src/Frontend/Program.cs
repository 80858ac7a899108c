using GeminiParty.Hosting;
using GeminiParty.Frontend.Apis;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Live;

// appsettings.json (log levels) is read from the app's own folder, wherever it is started from
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.WebHost.UseKestrelHttpsConfiguration();
builder.AddFrontend();

var app = builder.Build();
if (!app.ValidateOrExplain())
{
    return 2;
}

app.UseServerTiming();
app.UseCorsResponses();
app.UseJsonErrorResponses();
app.MapHealthApi();
app.MapRotationStatusApi();
app.MapMetricsApi();
app.MapStatusPageApi();
app.MapAdminKeysApi();
app.MapGeminiNativeApi();
app.MapOpenAiCompatibleApi();
app.MapResourceRoutesApi();
app.MapInteractionsApi();
app.MapUsageApi();
app.MapLiveApi();
app.Run();
return 0;

/// <summary>Entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
