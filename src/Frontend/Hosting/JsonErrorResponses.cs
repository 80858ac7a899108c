using GeminiParty.Frontend.Forwarding;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Hosting;

/// <summary>
/// Every error the gateway itself answers is JSON in the shape of the surface the client called: unknown routes (404),
/// wrong methods (405) and unexpected failures (500, with no detail that could carry a secret).
/// </summary>
public static partial class JsonErrorResponses
{
    public static WebApplication UseJsonErrorResponses(this WebApplication app)
    {
        var prefix = app.Services.GetRequiredService<IOptions<FrontendOptions>>().Value.NormalizedPrefix;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("GeminiParty.Frontend.Errors");
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = async context =>
            {
                var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                LogUnhandled(logger, error, error?.GetType().Name ?? "unknown", context.Request.Path, context.TraceIdentifier);
                await SurfaceOf(context.Request.Path, prefix).WriteErrorAsync(context, StatusCodes.Status500InternalServerError,
                    "The gateway failed to handle this request. It has been logged; the request was not charged to any key.");
            },
        });
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            var status = http.Response.StatusCode;
            var message = status switch
            {
                StatusCodes.Status404NotFound => $"No route for {http.Request.Method} {Printable(http.Request.Path)}: see the README for the routes.",
                StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {Printable(http.Request.Path)}.",
                StatusCodes.Status413PayloadTooLarge => "The request body is larger than MAX_REQUEST_BODY_MB allows.",
                _ => $"The request failed with status {status}.",
            };
            return SurfaceOf(http.Request.Path, prefix).WriteErrorAsync(http, status, message);
        });
        return app;
    }

    /// <summary>OpenAI's shape under /v1 and /v1beta/openai, except for native model methods under /v1 (a ':' in the path).</summary>
    private static ApiSurface SurfaceOf(PathString path, string prefix) =>
        path.StartsWithSegments(prefix + "/v1beta/openai")
        || (path.StartsWithSegments(prefix + "/v1") && path.Value?.Contains(':') != true)
            ? ApiSurface.OpenAi
            : ApiSurface.GeminiNative;

    /// <summary>The path without control characters and bounded in length: it goes back to the client.</summary>
    private static string Printable(PathString path) => PrintableText.Of(path.Value ?? "/", 200);

    [LoggerMessage(EventId = 3100, Level = LogLevel.Error, Message = "Unhandled {ExceptionType} on {Path}, id {RequestId}")]
    private static partial void LogUnhandled(ILogger logger, Exception? exception, string exceptionType, PathString path, string requestId);
}
