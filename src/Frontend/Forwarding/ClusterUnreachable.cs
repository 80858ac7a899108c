namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// What "the cluster cannot be asked right now" means for every frontend call into Orleans (the key pool, a client's
/// limits, usage, resource records), and the one answer a client gets then: 503 with a short <c>Retry-After</c>.
/// </summary>
public static class ClusterUnreachable
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Orleans' own failures (no gateway, silo gone, message rejected), a call that timed out, a client disposed while
    /// the process stops, and the argument and state errors Orleans' client raises while a grain moves between silos.
    /// The last two only when Orleans threw them, so that a bug in this code still surfaces as one.
    /// </summary>
    public static bool Is(Exception ex) =>
        ex is OrleansException or TimeoutException or ObjectDisposedException
        || (ex is ArgumentException or InvalidOperationException && ex.Source?.StartsWith("Orleans", StringComparison.Ordinal) == true);

    /// <summary>Answers 503: <paramref name="what"/> (e.g. "The key pool") is not reachable; returns the bytes written.</summary>
    public static Task<int> AnswerAsync(HttpContext context, ApiSurface surface, string what) =>
        surface.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, $"{what} is not reachable right now; retry shortly.", RetryAfter);
}
