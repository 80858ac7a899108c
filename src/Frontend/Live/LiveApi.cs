using System.Diagnostics;
using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// Google's Live API: WebSockets under <c>{API_PREFIX}/ws/google.ai.generativelanguage.{version}.GenerativeService.{method}</c>,
/// relayed to the same path upstream by <see cref="LiveProxy"/>. <c>@google/genai</c> asks for <c>//ws/...</c> when its
/// base URL has no path, so that form is served too.
/// </summary>
public static class LiveApi
{
    public static WebApplication MapLiveApi(this WebApplication app)
    {
        var prefix = app.Services.GetRequiredService<IOptions<FrontendOptions>>().Value.NormalizedPrefix;
        var tokens = app.Services.GetRequiredService<ClientTokens>();
        var proxy = app.Services.GetRequiredService<LiveProxy>();
        var clients = app.Services.GetRequiredService<ClientAdmission>();
        var origins = app.Services.GetRequiredService<IOptions<FrontendOptions>>().Value.Origins;
        // only the Live API's paths: every other request would carry a WebSocket handshake feature for nothing;
        // no KeepAliveTimeout: an idle session stays open for as long as both sides want it
        var livePaths = new PathString(prefix + "/ws");
        app.UseWhen(context => context.Request.Path.StartsWithSegments(livePaths), live => live.UseWebSockets());
        RequestDelegate handler = context => HandleAsync(context, origins, tokens, clients, proxy);
        app.Map(prefix + "/ws/{rpc}", handler).WithTags("Live API");
        return app;
    }

    private static async Task HandleAsync(HttpContext context, CorsOrigins origins, ClientTokens tokens, ClientAdmission clients, LiveProxy proxy)
    {
        var surface = ApiSurface.GeminiNative;
        // WebSockets are outside CORS: a browser opens one from any page, sending that page's origin. With a list in
        // CORS_ORIGINS, a page the list leaves out is refused here as its fetches are by the browser.
        if (origins is { Enabled: true, AllowsAny: false } && context.Request.Headers.Origin is { Count: > 0 } origin && !origins.Allows(origin.ToString()))
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status403Forbidden,
                $"Web pages of origin '{PrintableText.Of(origin.ToString(), 100)}' may not use this gateway: CORS_ORIGINS does not list it.");
            return;
        }
        // the token is checked before the upgrade: a client without one never gets a WebSocket
        if (tokens.Identify(context.Request) is not { } client)
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status401Unauthorized,
                "Missing or invalid client token: send one of AUTH_TOKEN as '?key=', 'x-goog-api-key' or 'Authorization: Bearer <token>'.");
            return;
        }
        if (!LiveRpc.TryParse(context.Request.RouteValues["rpc"] as string, out var rpc))
        {
            await surface.WriteErrorAsync(context, StatusCodes.Status404NotFound,
                "Unknown Live API method: use google.ai.generativelanguage.{version}.GenerativeService.{method}, e.g. v1beta and BidiGenerateContent.");
            return;
        }
        context.Features.Set(client);
        var started = Stopwatch.GetTimestamp();
        if (!await clients.AllowLiveUpgradeAsync(context))
        {
            // live=false, or over a limit: answered before the upgrade, so the client sees an HTTP error
            proxy.RefusedBeforeUpgrade(context, started);
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.Headers.Upgrade = "websocket";
            await surface.WriteErrorAsync(context, StatusCodes.Status426UpgradeRequired,
                "The Live API is a WebSocket endpoint: connect with a WebSocket client (e.g. ai.live.connect in @google/genai).");
            return;
        }
        await proxy.RunAsync(context, rpc);
    }
}
