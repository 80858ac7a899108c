// The least a .NET reverse proxy can do on the gateway's stack: Kestrel in, one pooled SocketsHttpHandler out, the
// request body read into a pooled buffer, the key put in a header, the answer relayed chunk by chunk. No key pool,
// no client token, no metrics, no logging, no retry. bench/run.sh measures it beside the product (target "bare") so
// that the product's cost splits into what the framework costs and what the gateway adds on top.
//
// Environment: PORT (listen port on 127.0.0.1), UPSTREAM (base URL), UPSTREAM_KEY (sent as x-goog-api-key); ORLEANS
// to take the key from a grain instead (BareOrleans.cs).
using System.Buffers;
using System.Net;
using GeminiParty.BareProxy;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, int.Parse(builder.Configuration["PORT"] ?? "8080")));
var orleans = builder.Configuration["ORLEANS"];
if (orleans is not null)
{
    BareOrleans.Add(builder, orleans);
}
var app = builder.Build();

var upstreamBase = new Uri(builder.Configuration["UPSTREAM"] ?? throw new InvalidOperationException("set UPSTREAM"));
var key = builder.Configuration["UPSTREAM_KEY"] ?? throw new InvalidOperationException("set UPSTREAM_KEY");
var nextKey = orleans is null ? () => ValueTask.FromResult(key) : BareOrleans.KeySource(app.Services);
var upstream = new HttpMessageInvoker(new SocketsHttpHandler
{
    AllowAutoRedirect = false,
    AutomaticDecompression = DecompressionMethods.None,
    UseCookies = false,
    MaxConnectionsPerServer = int.MaxValue,
    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    ActivityHeadersPropagator = null,
});

app.MapGet("/healthz", () => "ok");
app.MapPost("/{**path}", async (HttpContext context) =>
{
    var body = ArrayPool<byte>.Shared.Rent((int)(context.Request.ContentLength ?? 16 * 1024));
    var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    try
    {
        var length = 0;
        int read;
        while ((read = await context.Request.Body.ReadAsync(body.AsMemory(length), context.RequestAborted)) > 0)
        {
            length += read;
        }
        // as nginx in bench/run.sh: OpenAI routes go to Google's OpenAI-compatible endpoint with the key as a bearer token
        var openAi = context.Request.Path.StartsWithSegments("/v1", out var rest);
        var path = openAi ? "/v1beta/openai" + rest : context.Request.Path.ToString();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(upstreamBase, path + context.Request.QueryString))
        {
            Content = new ReadOnlyMemoryContent(body.AsMemory(0, length)),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        var requestKey = await nextKey();
        request.Headers.TryAddWithoutValidation(openAi ? "Authorization" : "x-goog-api-key", openAi ? "Bearer " + requestKey : requestKey);
        using var response = await upstream.SendAsync(request, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        if (response.Content.Headers.NonValidated.TryGetValues("Content-Type", out var contentType))
        {
            context.Response.ContentType = contentType.ToString();
        }
        context.Response.ContentLength = response.Content.Headers.ContentLength;
        await using var answer = response.Content.ReadAsStream(context.RequestAborted);
        while ((read = await answer.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
        }
    }
    finally
    {
        ArrayPool<byte>.Shared.Return(buffer);
        ArrayPool<byte>.Shared.Return(body);
    }
});

app.Run();
