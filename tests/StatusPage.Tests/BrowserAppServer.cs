using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GeminiParty.StatusPage.Tests;

/// <summary>
/// A web app's own server, apart from the gateway: its page (BrowserApp/) and the SDKs' browser builds from
/// node_modules, on a loopback port of its own, so that the page's calls to the gateway are cross-origin.
/// </summary>
public sealed class BrowserAppServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BrowserAppServer(WebApplication app, string origin)
    {
        _app = app;
        Origin = origin;
    }

    /// <summary>The app's origin, e.g. http://127.0.0.1:41234.</summary>
    public string Origin { get; }

    public static async Task<BrowserAppServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var root = RepositoryRoot();
        app.MapGet("/{**path}", (string path) => Serve(root, path));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BrowserAppServer(app, address.TrimEnd('/'));
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static IResult Serve(string root, string path)
    {
        var file = path switch
        {
            _ when path.StartsWith("genai/", StringComparison.Ordinal) => Path.Combine(root, "node_modules/@google/genai/dist/web", path["genai/".Length..]),
            _ when path.StartsWith("openai/", StringComparison.Ordinal) => Path.Combine(root, "node_modules/openai", path["openai/".Length..]),
            _ => Path.Combine(root, "tests/StatusPage.Tests/BrowserApp", path),
        };
        if (path.Contains("..", StringComparison.Ordinal) || !File.Exists(file))
        {
            return Results.NotFound($"/{path}: no {file} (run npm ci at the repository root)");
        }
        var contentType = Path.GetExtension(file) is ".html" ? "text/html" : "text/javascript";
        return Results.File(file, contentType);
    }

    private static string RepositoryRoot() => Path.GetDirectoryName(Path.GetDirectoryName(StatusPageFixture.ArtifactPath("x")))!;
}
