using GeminiParty.Silo;

var builder = WebApplication.CreateBuilder(args);
builder.AddKeyPoolSilo();

var app = builder.Build();
app.MapSiloHealth();
app.Run();
