using System.Globalization;
using GeminiParty.Frontend.Auth;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// <c>GET {API_PREFIX}/usage</c>: who used what, read from the client grains, so every frontend answers the same. A
/// client token shows that client only (AUTH_TOKEN tokens share the unnamed client); ADMIN_TOKEN shows every client of
/// the clients file. Both see the pool's totals (the sum over all clients, no names), as /rotation-status shows the
/// pool's totals to any client.
/// </summary>
public static class UsageApi
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    public static IEndpointRouteBuilder MapUsageApi(this IEndpointRouteBuilder app)
    {
        var prefix = app.ServiceProvider.GetRequiredService<IOptions<FrontendOptions>>().Value.NormalizedPrefix;
        app.MapGet("/usage", GetAsync).RequireClientToken(app.ServiceProvider, ApiSurface.GeminiNative, allowAdmin: true);
        if (prefix.Length > 0)
        {
            // under API_PREFIX too, as /rotation-status is; the status page asks for the root one
            app.MapGet(prefix + "/usage", GetAsync).RequireClientToken(app.ServiceProvider, ApiSurface.GeminiNative, allowAdmin: true);
        }
        return app;
    }

    public static async Task<IResult> GetAsync(HttpContext context, ClientGrains grains, ClientsFile clientsFile, AdminToken admin,
        IOptions<FrontendOptions> options)
    {
        var everyone = clientsFile.Current.Clients.ToList();
        if (options.Value.Tokens.Count > 0)
        {
            everyone.Add(ClientPolicy.Unnamed);
        }
        var caller = context.Features.Get<ClientPolicy>();
        var isAdmin = caller is null && admin.IsValid(context.Request);
        if (caller is not null && !everyone.Contains(caller))
        {
            everyone.Add(caller);
        }
        ClientUsage[] usages;
        try
        {
            usages = await Task.WhenAll(everyone.Select(client => grains.For(client.Name).GetUsageAsync()));
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            await ClusterUnreachable.AnswerAsync(context, ApiSurface.GeminiNative, "The cluster that keeps usage");
            return TypedResults.Empty;
        }
        var at = usages.Length > 0 ? usages[0].At : DateTimeOffset.UtcNow;
        var today = usages.Length > 0 ? usages[0].Today : QuotaReset.PacificDay(at);
        var days = LastDays(today);
        var minutes = LastMinutes(at);

        var pool = new
        {
            today = Sum(usages.Select(usage => DayTotal(usage, today))),
            month = Sum(usages.Select(usage => MonthTotal(usage, today))),
            days = days.Select(day => new { day, counts = Sum(usages.Select(usage => DayTotal(usage, day))) }),
            minutes = minutes.Select(minute => new { at = MinuteStart(minute), counts = Sum(usages.Select(usage => usage.Minutes.GetValueOrDefault(minute))) }),
        };
        var visible = everyone.Select((client, i) => (client, usage: usages[i]))
            .Where(pair => isAdmin || ReferenceEquals(pair.client, caller))
            .Select(pair => new
            {
                name = pair.client.Name,
                named = pair.client.IsNamed,
                limits = new
                {
                    rpm = pair.client.Limits.RequestsPerMinute,
                    rpd = pair.client.Limits.RequestsPerDay,
                    tpd = pair.client.Limits.TokensPerDay,
                    concurrency = pair.client.Limits.Concurrency,
                    models = pair.client.Models.ToString(),
                    live = pair.client.Live,
                },
                today = DayTotal(pair.usage, today),
                month = MonthTotal(pair.usage, today),
                requestsLastMinute = pair.usage.RequestsLastMinute,
                inFlight = pair.usage.InFlight,
                days = days.Select(day => new
                {
                    day,
                    counts = DayTotal(pair.usage, day),
                    models = pair.usage.Days.GetValueOrDefault(day) ?? [],
                }),
                minutes = minutes.Select(minute => new { at = MinuteStart(minute), counts = pair.usage.Minutes.GetValueOrDefault(minute) ?? new UsageCounts() }),
            });
        return TypedResults.Json(new { at, today, month = today[..7], admin = isAdmin, pool, clients = visible });
    }

    /// <summary>The last 31 Pacific days, oldest first, ending with today.</summary>
    private static string[] LastDays(string today)
    {
        var date = DateOnly.ParseExact(today, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        return Enumerable.Range(0, ClientGrain.DaysKept).Reverse()
            .Select(back => date.AddDays(-back).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
            .ToArray();
    }

    private static long[] LastMinutes(DateTimeOffset at)
    {
        var now = at.ToUnixTimeSeconds() / 60;
        return Enumerable.Range(0, ClientGrain.MinutesKept).Reverse().Select(back => now - back).ToArray();
    }

    private static DateTimeOffset MinuteStart(long minute) => DateTimeOffset.FromUnixTimeSeconds(minute * 60);

    private static UsageCounts DayTotal(ClientUsage usage, string day) =>
        Sum(usage.Days.TryGetValue(day, out var models) ? models.Values : []);

    private static UsageCounts MonthTotal(ClientUsage usage, string today) =>
        Sum(usage.Days.Where(pair => pair.Key.StartsWith(today[..7], StringComparison.Ordinal)).SelectMany(pair => pair.Value.Values));

    private static UsageCounts Sum(IEnumerable<UsageCounts?> counts)
    {
        var total = new UsageCounts();
        foreach (var count in counts)
        {
            if (count is not null)
            {
                total.Add(count);
            }
        }
        return total;
    }
}
