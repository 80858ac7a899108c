using System.Diagnostics;
using GeminiParty.Frontend.Observability;

namespace GeminiParty.Frontend.Hosting;

/// <summary>
/// Puts a <see cref="ServerTiming"/> on every request, written into the answer's headers as they leave, beside the
/// request's id (<see cref="RequestIdHeader"/>): the id its log line carries, which a client quotes to whoever runs the
/// gateway (the OpenAI SDKs show it on every error as the request id).
/// </summary>
public static class ServerTimingMiddleware
{
    /// <summary>The answer header holding the request's id; the gateway's own, over any upstream sent.</summary>
    public const string RequestIdHeader = "x-request-id";

    public static WebApplication UseServerTiming(this WebApplication app)
    {
        app.Use(static (context, next) =>
        {
            context.TraceIdentifier = RequestIds.Next(); // unique across replicas, unlike Kestrel's
            var timing = new ServerTiming(context.Response, Stopwatch.GetTimestamp());
            context.Features.Set(timing);
            context.Response.OnStarting(static state => ((ServerTiming)state).WriteAsync(), timing);
            // as the answer starts, not now: after upstream's headers were copied, and after an error page cleared them
            context.Response.OnStarting(static state =>
            {
                var request = (HttpContext)state;
                request.Response.Headers[RequestIdHeader] = request.TraceIdentifier;
                return Task.CompletedTask;
            }, context);
            return next(context);
        });
        return app;
    }
}
