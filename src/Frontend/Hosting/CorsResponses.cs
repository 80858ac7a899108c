using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace GeminiParty.Frontend.Hosting;

/// <summary>
/// Lets web pages of the origins CORS_ORIGINS allows call every route, as they call Google's endpoint: preflights are
/// answered here, before any token check (browsers send none on a preflight), and every answer, the gateway's own
/// errors included, carries the headers a browser needs to hand it to the page.
/// </summary>
public static class CorsResponses
{
    /// <summary>Browsers cache a preflight's answer this long (Chromium caps it at 2 hours), instead of one per call.</summary>
    private static readonly TimeSpan PreflightMaxAge = TimeSpan.FromHours(1);

    public static WebApplication UseCorsResponses(this WebApplication app)
    {
        var origins = app.Services.GetRequiredService<IOptions<FrontendOptions>>().Value.Origins;
        if (!origins.Enabled)
        {
            return app;
        }
        // only requests with an Origin (from browsers) enter: the middleware takes its policy provider from a request
        // scope, which every other request (the SDKs outside a browser) would then create for nothing
        app.UseWhen(static context => context.Request.Headers.ContainsKey(HeaderNames.Origin), browser => browser.UseCors(policy =>
        {
            if (origins.AllowsAny)
            {
                policy.AllowAnyOrigin();
            }
            else
            {
                // the same test as the Live API's, so a page is let in or kept out alike on every route
                policy.SetIsOriginAllowed(origins.Allows);
            }
            // any header and method the SDKs send (x-goog-api-key, x-stainless-*, the upload protocol's); every answer
            // header readable: the upload session's URL and status, x-ratelimit-*, retry-after, Server-Timing. No
            // credentials mode: tokens travel in headers, never in cookies, which also lets '*' mean every header.
            policy.AllowAnyHeader().AllowAnyMethod().WithExposedHeaders("*").SetPreflightMaxAge(PreflightMaxAge);
        }));
        return app;
    }
}
