using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Observability;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Where the key for the next attempt is chosen: a leased key of the pool's rotation, the one key that made the request's
/// resources, a place in the line while every key cools, or the next model of MODEL_FALLBACKS. The attempt loop in
/// <see cref="UpstreamForwarder"/> asks; pool failures and a client leaving surface as exceptions for it to answer.
/// </summary>
public sealed partial class KeyChooser(
    KeyPoolReference pool,
    KeyLeases leases,
    CapacityWaits waits,
    ModelFallbacks fallbacks,
    ErrorAnswers answers,
    IOptions<FrontendOptions> options,
    TimeProvider time,
    FrontendMetrics metrics,
    AttemptReporter reporter,
    ILogger<KeyChooser> logger)
{
    private static readonly TimeSpan MinAffinityRecheck = TimeSpan.FromMilliseconds(10);

    private readonly TimeSpan _maxAffinityWait = options.Value.MaxAffinityWait;

    /// <summary>Whether the call's model has a fallback, so answers say which model served them.</summary>
    public bool IsChained(UpstreamCall call) => fallbacks.Enabled && fallbacks.IsChained(call.Model);

    /// <summary>The next key of the rotation not yet tried by this request; no key with the reason when none is left.</summary>
    /// <param name="lastTransient">The last failure blamed no key (a one-key pool's 503): tried keys may be tried again.</param>
    public async ValueTask<LeasedKey> NextAsync(string model, TriedKeys? tried, bool lastTransient, CancellationToken aborted)
    {
        var lease = await leases.NextAsync(model, tried, aborted);
        if (lease.Key is null && tried is not null && lastTransient)
        {
            // every key left was tried, the last failure blamed none: try them again
            lease = await leases.NextAsync(model, null, aborted);
        }
        return lease;
    }

    /// <summary>Until when a request may wait in line for a key: its own wait header, or the configured one.</summary>
    public DateTimeOffset WaitDeadline(HttpRequest request) => time.GetUtcNow() + waits.WaitFor(request);

    /// <summary>Every key cools for this model (or others wait for it): a key that comes back before the deadline, or none.</summary>
    public ValueTask<LeasedKey> WaitInLineAsync(string model, DateTimeOffset retryAt, DateTimeOffset deadline, ServerTiming? timing,
        CancellationToken aborted) =>
        waits.WaitAsync(model, retryAt, deadline, timing, aborted);

    /// <summary>No key for the call's model: the next model of its chain (chains have no loops), or null.</summary>
    public UpstreamCall? FallBack(UpstreamCall call, LeasedKey lease, HttpRequest request)
    {
        if (lease.AllInvalid || !fallbacks.Enabled || fallbacks.Next(call, request) is not { } next)
        {
            return null;
        }
        LogFellBack(logger, call.Model, next.Model);
        metrics.FellBack(call.Model, next.Model);
        return next;
    }

    /// <summary>
    /// Leases the key that owns the request's resources: at once when it is usable; after a wait when it comes back
    /// from a cooldown within MAX_AFFINITY_WAIT; otherwise null, with the client answered (429 naming the resource, or
    /// FAILED_PRECONDITION when the key is invalid or gone: the resource must be re-created).
    /// </summary>
    public async Task<LeasedKey?> OwnerAsync(HttpContext context, UpstreamCall call, string fingerprint, CancellationToken aborted)
    {
        var owner = await LeaseOwnerAsync(call.Model, fingerprint, aborted);
        if (owner.Key is { } key)
        {
            return key;
        }
        await (owner.CoolingFor is { } wait ? answers.OwnerCoolingAsync(context, call, wait) : answers.OwnerUnusableAsync(context, call));
        return null;
    }

    /// <summary>
    /// The key <paramref name="fingerprint"/> for <paramref name="model"/>: at once when it is usable; after a wait when it
    /// comes back from a cooldown within MAX_AFFINITY_WAIT; otherwise no key, with how long it cools (or none: unusable).
    /// </summary>
    public async Task<OwnerLease> LeaseOwnerAsync(string model, string fingerprint, CancellationToken aborted)
    {
        var since = time.GetUtcNow();
        var waited = false;
        while (true)
        {
            var lease = await pool.Reference.LeaseKeyAsync(model, fingerprint);
            if (lease.Keys.Length > 0)
            {
                return new OwnerLease(new LeasedKey(lease.Keys[0]), null);
            }
            if (lease.AllInvalid || lease.RetryAt is null)
            {
                metrics.AffinityRefused("owner_unusable", fingerprint);
                return new OwnerLease(null, null);
            }
            var now = time.GetUtcNow();
            var wait = lease.RetryAt.Value - now;
            if (now + wait - since > _maxAffinityWait)
            {
                metrics.AffinityRefused("owner_cooling", fingerprint);
                return new OwnerLease(null, wait);
            }
            if (!waited)
            {
                reporter.ReportAffinityWait(fingerprint, model); // once per request, however many times it looks again
                waited = true;
            }
            // a timer may fire a little before the cooldown's end by the pool's clock: look again no sooner than this
            await Task.Delay(wait > MinAffinityRecheck ? wait : MinAffinityRecheck, time, aborted);
        }
    }

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Every key cools for {Model} past the request's wait; sending it for {Fallback} (MODEL_FALLBACKS)")]
    private static partial void LogFellBack(ILogger logger, string model, string fallback);
}
