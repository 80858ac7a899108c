using GeminiParty.Hosting;
using GeminiParty.Silo;

// appsettings.json (log levels) is read from the app's own folder, wherever it is started from
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddKeyPoolSilo();

var app = builder.Build();
if (!app.ValidateOrExplain())
{
    return 2;
}

app.MapSiloHealth();
app.Run();
return 0;
