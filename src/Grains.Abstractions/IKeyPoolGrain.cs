using Orleans.Concurrency;

namespace GeminiParty;

/// <summary>
/// The one pool every frontend leases keys from (id <see cref="GrainIds.DefaultPool"/>). It decides rotation in memory;
/// the <see cref="IKeyGrain"/>s remember. Leasing does no storage I/O and awaits no other grain.
/// </summary>
[Alias("gp.IKeyPoolGrain")]
public interface IKeyPoolGrain : IGrainWithStringKey
{
    /// <summary>
    /// The next <paramref name="count"/> keys for <paramref name="model"/> in round-robin order, skipping cooling,
    /// invalid and tried keys; a count above the usable keys goes round the ring again, so each key appears once per
    /// turn. A frontend hands them to its requests in this order. Nothing is counted until each attempt is reported.
    /// While requests wait in the model's line (<see cref="JoinLineAsync"/>) it gives no key, and <see cref="KeyLease.RetryAt"/>
    /// now: keys that came back go to those requests first.
    /// </summary>
    /// <param name="model">The model name without a <c>models/</c> prefix.</param>
    /// <param name="count">How many keys the caller wants, 1 to <see cref="MaxLeaseCount"/>.</param>
    /// <param name="tried">Keys the asking request already tried.</param>
    /// <param name="holder">
    /// The frontend that will hold the keys: subscribed (or renewed) before they are chosen, so it hears of every later
    /// withdrawal of one of them. Null for a caller that uses the keys at once.
    /// </param>
    /// <remarks>
    /// Answers in microseconds: a short response timeout lets a caller whose call was lost with a dying silo try again
    /// soon instead of waiting the default 30 s.
    /// </remarks>
    [Alias("Lease"), ResponseTimeout("00:00:05")]
    ValueTask<KeyLease> LeaseAsync(string model, int count = 1, TriedKeys? tried = null, IKeyPoolObserver? holder = null);

    /// <summary>
    /// The key with <paramref name="fingerprint"/> for <paramref name="model"/> if it is usable now: for a request that
    /// names a resource only that key can see. Otherwise no key, with <see cref="KeyLease.RetryAt"/> when it is cooling
    /// for the model, or <see cref="KeyLease.AllInvalid"/> when it is invalid or no longer in the pool.
    /// </summary>
    [Alias("LeaseKey"), ResponseTimeout("00:00:05")]
    ValueTask<KeyLease> LeaseKeyAsync(string model, string fingerprint);

    /// <summary>
    /// Puts a request at the tail of <paramref name="model"/>'s line, for a request whose lease found no usable key (or
    /// found others already waiting). Refused (<see cref="WaitTicket.Admitted"/> false) when no key returns before
    /// <paramref name="deadline"/>, or when <paramref name="maxWaiting"/> requests already wait for the model.
    /// </summary>
    [Alias("JoinLine"), ResponseTimeout("00:00:05")]
    ValueTask<WaitTicket> JoinLineAsync(string model, DateTimeOffset deadline, int maxWaiting);

    /// <summary>
    /// A key for the ticket's request once it is the head of the line and a key is usable; the line moves on at once.
    /// While other tickets are ahead and a key is usable, the call waits in the (reentrant) pool for its turn, at most
    /// a few seconds. With no key usable it answers at once: no key, and <see cref="KeyLease.RetryAt"/> the time to
    /// claim again (the ticket keeps its place), or no <see cref="KeyLease.RetryAt"/> when the request leaves the line
    /// (no key back before <paramref name="deadline"/>). A ticket the pool does not know (a new activation) joins the tail.
    /// </summary>
    [Alias("Claim"), ResponseTimeout("00:00:30")]
    ValueTask<KeyLease> ClaimAsync(string model, long ticket, DateTimeOffset deadline);

    /// <summary>Removes a ticket from the line (its client left); those behind it move up at once.</summary>
    [Alias("LeaveLine"), ResponseTimeout("00:00:05")]
    Task LeaveLineAsync(string model, long ticket);

    /// <summary>
    /// Renews the subscription of a frontend that holds leased keys (a lease subscribes it too), so it keeps hearing of
    /// withdrawals while it leases nothing. A subscription lapses unless renewed within <see cref="SubscriptionLifetime"/>.
    /// </summary>
    [Alias("Subscribe")]
    Task SubscribeAsync(IKeyPoolObserver observer);

    /// <summary>
    /// Records outcomes that leave their keys as they are (success, client error, transient, timeout). Frontends send
    /// them in batches, off the request path, and send a batch again until it is acknowledged: a batch the pool has
    /// already applied (same sender, sequence not above the last applied) is acknowledged and ignored.
    /// </summary>
    /// <remarks>A short response timeout: a batch stuck with a dying silo is sent again (and deduplicated) sooner.</remarks>
    [Alias("Record"), ResponseTimeout("00:00:02")]
    Task RecordAsync(ReportBatch batch);

    /// <summary>
    /// Applies a failure that changes the key's state (cooldown or invalid). Returns once the change is persisted,
    /// so no later lease from any frontend gets that key for that model, and tells every subscribed frontend.
    /// </summary>
    [Alias("Penalize")]
    Task PenalizeAsync(AttemptReport report);

    /// <summary>
    /// Replaces the Live API sessions one frontend has open per key (<see cref="LiveSessionCounts"/>), shown in
    /// <see cref="GetStatusAsync"/> summed over every frontend that reported within <see cref="LiveSessionsLifetime"/>.
    /// Kept in memory only: a new activation hears from every frontend with open sessions within its next refresh.
    /// </summary>
    [Alias("ReportLiveSessions"), ResponseTimeout("00:00:02")]
    Task ReportLiveSessionsAsync(LiveSessionCounts counts);

    /// <summary>Answers when the pool is active: the number of keys it rotates. For readiness probes.</summary>
    [Alias("Ping")]
    ValueTask<int> PingAsync();

    /// <summary>Every key with its counters, cooldowns and invalid mark.</summary>
    [Alias("GetStatus"), ResponseTimeout("00:00:10")]
    ValueTask<PoolStatus> GetStatusAsync();

    /// <summary>
    /// A silo is starting to shut down. The pool writes the counters not yet persisted to the key grains, while every key
    /// grain can still be reached, so that stopping all silos at once loses no counts; and when it lives on that silo,
    /// it tells its subscribers it is about to move (<see cref="IKeyPoolObserver.PoolMovingAsync"/>) while messages still
    /// flow: its own deactivation comes later in the shutdown, when calls to other silos may already be refused.
    /// </summary>
    [Alias("SiloStopping")]
    Task SiloStoppingAsync(SiloAddress silo);

    /// <summary>
    /// An operator's action on one key, named by its index or fingerprint. Takes effect for every frontend before it
    /// returns (a disable withdraws the key like an invalid mark does).
    /// </summary>
    /// <param name="target">The key's index in the pool or its fingerprint.</param>
    /// <param name="by">Who asked, for the log ("admin").</param>
    [Alias("Admin"), ResponseTimeout("00:00:30")]
    Task<KeyAdminResult> AdminAsync(string target, KeyAdminAction action, string by);

    /// <summary>
    /// How long a frontend's Live session report counts without a newer one. Frontends with open sessions report at
    /// least every third of it, so only a frontend that is gone (or cut off from the pool) drops out.
    /// </summary>
    public static readonly TimeSpan LiveSessionsLifetime = TimeSpan.FromSeconds(15);

    /// <summary>The largest lease one call hands out.</summary>
    public const int MaxLeaseCount = 256;

    /// <summary>
    /// How long a subscription lasts without renewal; frontends renew at a third of it, so a pool that moved to another
    /// silo (and starts with no subscribers) hears from every frontend within 5 s, and within a fraction of a second
    /// when the move was announced.
    /// </summary>
    public static readonly TimeSpan SubscriptionLifetime = TimeSpan.FromSeconds(15);
}
