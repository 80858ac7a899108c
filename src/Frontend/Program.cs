using GeminiParty.Hosting;
using GeminiParty.Frontend.Apis;
using GeminiParty.Frontend.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddGateway();

var app = builder.Build();
if (!app.ValidateOrExplain())
{
    return 2;
}

app.UseJsonErrorResponses();
app.MapHealthApi();
app.MapRotationStatusApi();
app.MapMetricsApi();
app.MapStatusPageApi();
app.MapGeminiNativeApi();
app.MapOpenAiCompatibleApi();
app.Run();
return 0;

/// <summary>Entry point, visible to the functional tests' WebApplicationFactory.</summary>
public partial class Program;
