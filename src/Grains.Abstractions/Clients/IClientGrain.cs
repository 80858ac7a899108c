namespace GeminiParty;

/// <summary>
/// One named client of the gateway (id: the client's name from CLIENTS_FILE, never its token). Owns the client's
/// windows (requests per minute and per Pacific day, tokens per Pacific day, requests in flight) for the whole cluster,
/// and its usage per day and model. Frontends pass the limits with each call: they read them from their clients file.
/// </summary>
[Alias("gp.IClientGrain")]
public interface IClientGrain : IGrainWithStringKey
{
    /// <summary>
    /// Admits one request under <paramref name="limits"/> or refuses it; a refusal counts in the usage as refused.
    /// An admitted request with a concurrency limit holds a slot until <see cref="CompleteAsync"/> (or its lease expires).
    /// </summary>
    [Alias("Admit")]
    Task<ClientDecision> AdmitAsync(string model, ClientLimits limits);

    /// <summary>
    /// Whether a request would be admitted now, without admitting it: a refusal counts as refused (as with
    /// <see cref="AdmitAsync"/>), an admission counts nothing and holds no slot. For a Live API session, which can be
    /// refused with an HTTP answer only before its WebSocket upgrade, when its model is not known yet.
    /// </summary>
    [Alias("Check")]
    Task<ClientDecision> CheckAsync(string model, ClientLimits limits);

    /// <summary>Ends an admitted request: frees its slot (0: none) and counts its usage (tokens feed the daily budget).</summary>
    [Alias("Complete")]
    Task CompleteAsync(long slot, string model, UsageCounts usage);

    /// <summary>Extends the leases of slots still in use, so only the slots of a frontend that died expire.</summary>
    [Alias("Renew")]
    Task RenewAsync(long[] slots);

    /// <summary>Usage of requests that needed no admission, batched by a frontend (written behind).</summary>
    [Alias("Record")]
    Task RecordAsync(UsageBatch batch);

    /// <summary>The client's usage: per day and model for the last 31 days, per minute for the last hour, and today's windows.</summary>
    [Alias("GetUsage")]
    Task<ClientUsage> GetUsageAsync();
}
