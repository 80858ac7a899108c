using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// Turns <c>{API_PREFIX}//ws/...</c> into <c>{API_PREFIX}/ws/...</c> before routing sees it. <c>@google/genai</c> joins a
/// base URL that ends in a slash (as a URL without a path always does once parsed) and <c>/ws/...</c> without trimming,
/// and a route template cannot hold an empty segment. A startup filter, because it must run ahead of the routing
/// middleware that <see cref="WebApplication"/> puts first in the pipeline.
/// </summary>
public sealed class LivePathNormalizer(IOptions<FrontendOptions> options) : IStartupFilter
{
    private readonly string _doubled = options.Value.NormalizedPrefix + "//ws/";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            var path = context.Request.Path.Value;
            if (path is not null && path.StartsWith(_doubled, StringComparison.Ordinal))
            {
                context.Request.Path = new PathString(string.Concat(path.AsSpan(0, _doubled.Length - 4), path.AsSpan(_doubled.Length - 3)));
            }
            return nextMiddleware(context);
        });
        next(app);
    };
}
