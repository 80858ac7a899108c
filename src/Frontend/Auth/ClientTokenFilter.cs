using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Auth;

/// <summary>Rejects requests without a valid client token, in the error shape of the surface they called.</summary>
public sealed class ClientTokenFilter(ClientTokens tokens, ApiSurface surface) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (tokens.IsValid(ClientTokens.Read(http.Request)))
        {
            return await next(context);
        }
        await surface.WriteErrorAsync(http, StatusCodes.Status401Unauthorized,
            "Missing or invalid client token: send one of AUTH_TOKEN as 'Authorization: Bearer <token>', 'x-goog-api-key' or '?key='.");
        return Results.Empty;
    }
}

public static class ClientTokenFilterExtensions
{
    /// <summary>Requires a client token on every endpoint of the group.</summary>
    public static TBuilder RequireClientToken<TBuilder>(this TBuilder builder, IServiceProvider services, ApiSurface surface)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(new ClientTokenFilter(services.GetRequiredService<ClientTokens>(), surface));
}
