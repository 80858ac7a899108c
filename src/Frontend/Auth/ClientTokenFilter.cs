using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Auth;

/// <summary>Rejects requests without a valid client token, in the error shape of the surface they called.</summary>
public sealed class ClientTokenFilter(ClientTokens tokens, ApiSurface surface) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        tokens.IsValid(context.HttpContext.Request) ? next(context) : RejectAsync(context.HttpContext);

    private async ValueTask<object?> RejectAsync(HttpContext http)
    {
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
