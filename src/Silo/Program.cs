using GeminiParty.Hosting;
using GeminiParty.Silo;

var builder = WebApplication.CreateBuilder(args);
builder.AddKeyPoolSilo();

var app = builder.Build();
if (!app.ValidateOrExplain())
{
    return 2;
}

app.MapSiloHealth();
app.Run();
return 0;
