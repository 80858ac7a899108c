using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// <c>GET {prefix}/admin/keys</c> (every key masked, with its index, fingerprint, state and attributes) and
/// <c>POST {prefix}/admin/keys/{index or fingerprint}/{disable|enable|clear-cooldowns|probe|reset}</c>, for
/// ADMIN_TOKEN only. Actions go through the pool grain, so they hold for every frontend as soon as they answer. Without
/// ADMIN_TOKEN the routes do not exist (404): a gateway nobody administers offers nothing to guess at.
/// </summary>
public static partial class AdminKeysApi
{
    public static IEndpointRouteBuilder MapAdminKeysApi(this IEndpointRouteBuilder app)
    {
        var admin = app.ServiceProvider.GetRequiredService<AdminToken>();
        if (!admin.IsConfigured)
        {
            return app;
        }
        var prefix = app.ServiceProvider.GetRequiredService<IOptions<FrontendOptions>>().Value.NormalizedPrefix;
        var keys = app.MapGroup(prefix + "/admin/keys").ExcludeFromDescription();
        keys.AddEndpointFilter(async (context, next) => admin.IsValid(context.HttpContext.Request)
            ? await next(context)
            : await RefuseAsync(context.HttpContext));
        keys.MapGet("", ListAsync);
        keys.MapPost("{target}/{action}", ActAsync);
        return app;
    }

    /// <summary>The path of the admin key routes, or null when there are none (the status page shows its buttons then).</summary>
    public static string? PathFor(AdminToken admin, FrontendOptions options) =>
        admin.IsConfigured ? options.NormalizedPrefix + "/admin/keys" : null;

    public static async Task<IResult> ListAsync(HttpContext context, KeyPoolReference pool, UpstreamKeySecrets secrets)
    {
        if (await StatusAsync(context, pool) is not { } status)
        {
            return TypedResults.Empty;
        }
        return TypedResults.Json(new
        {
            paidFirst = status.PaidFirst,
            keys = status.Keys.Select(key => new
            {
                index = key.Key.Index,
                key = secrets.Masked(key.Key),
                fingerprint = key.Key.Fingerprint,
                state = RotationStatusApi.State(key),
                attributes = RotationStatusApi.Attributes(key.Attributes),
                cooldowns = key.Cooldowns.ToDictionary(pair => pair.Key, pair => new { until = pair.Value.Until, reason = pair.Value.Reason }),
                invalid = key.Invalid is { } mark ? new { reason = mark.Reason, since = mark.Since } : null,
                disabled = key.Disabled is { } off ? new { by = off.By, since = off.Since } : null,
                probe = key.Probe is { } probe
                    ? new
                    {
                        lastAt = probe.LastAt,
                        lastResult = probe.LastResult is { } result ? RotationStatusApi.ProbeResultName(result) : null,
                        nextAt = probe.NextAt,
                        failedInARow = probe.FailedInARow,
                    }
                    : null,
            }),
        });
    }

    public static async Task<IResult> ActAsync(string target, string action, HttpContext context, KeyPoolReference pool,
        UpstreamKeySecrets secrets, ILoggerFactory loggers)
    {
        if (Parse(action) is not { } what)
        {
            await ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status404NotFound,
                $"Unknown action: use one of disable, enable, clear-cooldowns, probe, reset.");
            return TypedResults.Empty;
        }
        KeyAdminResult result;
        try
        {
            result = await pool.Reference.AdminAsync(target, what, "admin");
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            await PoolUnreachableAsync(context);
            return TypedResults.Empty;
        }
        if (result.Key is not { } key)
        {
            await ApiSurface.GeminiNative.WriteErrorAsync(context, StatusCodes.Status404NotFound,
                "No key has that index or fingerprint: GET admin/keys lists them.");
            return TypedResults.Empty;
        }
        var probe = result.Probe is { } found ? RotationStatusApi.ProbeResultName(found) : null;
        LogAction(loggers.CreateLogger(typeof(AdminKeysApi).FullName!), "admin", action, key.Index, key.Fingerprint, probe ?? "-");
        return TypedResults.Json(new
        {
            action,
            key = new { index = key.Index, fingerprint = key.Fingerprint, key = secrets.Masked(key) },
            probe,
        });
    }

    private static KeyAdminAction? Parse(string action) => action switch
    {
        "disable" => KeyAdminAction.Disable,
        "enable" => KeyAdminAction.Enable,
        "clear-cooldowns" => KeyAdminAction.ClearCooldowns,
        "probe" => KeyAdminAction.Probe,
        "reset" => KeyAdminAction.Reset,
        _ => null,
    };

    private static async Task<PoolStatus?> StatusAsync(HttpContext context, KeyPoolReference pool)
    {
        try
        {
            return await pool.Reference.GetStatusAsync();
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            await PoolUnreachableAsync(context);
            return null;
        }
    }

    private static Task PoolUnreachableAsync(HttpContext context) =>
        ClusterUnreachable.AnswerAsync(context, ApiSurface.GeminiNative, "The key pool");

    /// <summary>401 without a Bearer token; 403 with one that is not ADMIN_TOKEN (a client token included).</summary>
    private static async ValueTask<object?> RefuseAsync(HttpContext context)
    {
        var bearer = context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
        await ApiSurface.GeminiNative.WriteErrorAsync(context,
            bearer ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized,
            bearer ? "This token may not use the admin routes: send ADMIN_TOKEN." : "Admin routes need 'Authorization: Bearer <ADMIN_TOKEN>'.");
        return TypedResults.Empty;
    }

    [LoggerMessage(EventId = 3500, Level = LogLevel.Information,
        Message = "Admin action by {Who}: {Action} on key #{KeyIndex} ({Fingerprint}); probe {Probe}")]
    private static partial void LogAction(ILogger logger, string who, string action, int keyIndex, string fingerprint, string probe);
}
