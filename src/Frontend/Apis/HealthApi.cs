using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Apis;

/// <summary>
/// <c>/healthz</c> (the process is alive) and <c>/readyz</c> (the pool grain answers). No auth: for probes, GET or
/// HEAD (uptime monitors often send HEAD; Kestrel leaves the body out).
/// </summary>
public static class HealthApi
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(3);

    private static readonly string[] ProbeMethods = [HttpMethods.Get, HttpMethods.Head];

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/healthz", ProbeMethods, () => TypedResults.Ok(new { status = "ok" }));
        app.MapMethods("/readyz", ProbeMethods, ReadyAsync);
        return app;
    }

    private static async Task<IResult> ReadyAsync(KeyPoolReference pool, IHostApplicationLifetime lifetime)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            return TypedResults.Json(new { status = "stopping" }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        try
        {
            var keys = await pool.Reference.PingAsync().AsTask().WaitAsync(ReadyTimeout);
            return TypedResults.Ok(new { status = "ready", keys });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return TypedResults.Json(new { status = "unavailable", error = ex.GetType().Name }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
