using System.Security.Cryptography;
using System.Text;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// <c>GET /status</c>: a self-contained page (inline CSS and JS, no CDN) that asks for a client token and reads
/// /rotation-status with it. The page itself holds no pool data, so it is served without auth.
/// </summary>
public static class StatusPageApi
{
    private const string Resource = "GeminiParty.Frontend.StatusPage.status.html";

    public static IEndpointRouteBuilder MapStatusPageApi(this IEndpointRouteBuilder app)
    {
        var page = Load();
        // only the page's own inline script may run, and it may only talk to this origin
        var csp = $"default-src 'none'; script-src '{ScriptHash(page)}'; style-src 'unsafe-inline'; connect-src 'self'; " +
                  "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        app.MapGet("/status", (HttpContext context) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = csp;
            headers.CacheControl = "no-cache";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            return TypedResults.Bytes(page, "text/html; charset=utf-8");
        }).ExcludeFromDescription();
        return app;
    }

    private static byte[] Load()
    {
        using var stream = typeof(StatusPageApi).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The status page resource {Resource} is missing from the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string ScriptHash(byte[] page)
    {
        var html = Encoding.UTF8.GetString(page);
        var start = html.IndexOf("<script>", StringComparison.Ordinal) + "<script>".Length;
        var end = html.IndexOf("</script>", start, StringComparison.Ordinal);
        return "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(html[start..end])));
    }
}
