using System.Diagnostics;
using GeminiParty.Frontend.Observability;

namespace GeminiParty.Frontend.Hosting;

/// <summary>Puts a <see cref="ServerTiming"/> on every request, written into the answer's headers as they leave.</summary>
public static class ServerTimingMiddleware
{
    public static WebApplication UseServerTiming(this WebApplication app)
    {
        app.Use(static (context, next) =>
        {
            var timing = new ServerTiming(context.Response, Stopwatch.GetTimestamp());
            context.Features.Set(timing);
            context.Response.OnStarting(static state => ((ServerTiming)state).WriteAsync(), timing);
            return next(context);
        });
        return app;
    }
}
