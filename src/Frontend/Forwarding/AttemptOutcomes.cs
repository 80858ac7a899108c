using GeminiParty.Frontend.Observability;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// What one attempt meant for its key, told to the metrics and the pool: successes and failures that change no key
/// state go in batches (<see cref="AttemptReporter"/>); a failure that cools or invalidates the key withdraws it here at
/// once and waits for the pool to hear of it.
/// </summary>
public sealed partial class AttemptOutcomes(
    KeyPoolReference pool,
    KeyLeases leases,
    AttemptReporter reporter,
    FrontendMetrics metrics,
    ILogger<AttemptOutcomes> logger)
{
    public void Record(KeyAlias alias, string model, UpstreamOutcome outcome, string? reason, TokenCounts? tokens = null, string? client = null)
    {
        metrics.AttemptCompleted(alias, outcome, tokens, model, client);
        reporter.Report(new AttemptReport(alias, model, outcome, null, reason, tokens)); // batched, off the request path
    }

    /// <summary>
    /// A failure that blames no key (no answer, a broken body): counted in the metrics, and what to answer if no key does
    /// better. Its report to the pool is the caller's to make once the request ends (<see cref="ReportTransients"/>).
    /// </summary>
    internal UpstreamFailure Transient(KeyAlias alias, string model, string reason)
    {
        LogAttemptFailed(logger, alias.Index, model, 0, reason);
        metrics.AttemptCompleted(alias, UpstreamOutcome.Transient, null, model);
        var message = $"Upstream {reason}.";
        return new UpstreamFailure(StatusCodes.Status502BadGateway, null, null,
            new UpstreamClassification(UpstreamOutcome.Transient, null, message));
    }

    /// <summary>
    /// The transient failures of one request's attempts, reported to the pool once it ended: as the key's when another
    /// key then served the request, and as the request's (<see cref="AttemptReport.NoKeyServed"/>) when none did.
    /// </summary>
    public void ReportTransients(List<AttemptReport> failures, bool served)
    {
        foreach (var report in failures)
        {
            reporter.Report(served ? report : report with { NoKeyServed = true });
        }
    }

    /// <summary>
    /// Upstream's error answer, classified: reported, and for a retryable one that cools the key, withdrawn. A transient
    /// one is reported here only when <paramref name="holdTransient"/> is false (the caller reports it when the request
    /// ends, <see cref="ReportTransients"/>).
    /// </summary>
    public async Task FailedAsync(KeyAlias alias, string model, int status, UpstreamClassification classification, bool holdTransient = false)
    {
        var report = new AttemptReport(alias, model, classification.Outcome, classification.RetryDelay, classification.Reason);
        metrics.AttemptCompleted(alias, classification.Outcome, null, model);
        if (!classification.Outcome.IsRetryable())
        {
            reporter.Report(report);
            return;
        }
        LogAttemptFailed(logger, alias.Index, model, status, classification.Reason);
        if (classification.Outcome.ChangesKeyState())
        {
            metrics.CooldownStarted(alias, model, classification.Outcome);
            leases.Withdraw(alias, classification.Outcome == UpstreamOutcome.InvalidKey ? null : model);
            try
            {
                await pool.Reference.PenalizeAsync(report);
            }
            catch (Exception ex) when (ClusterUnreachable.Is(ex))
            {
                // the key is withdrawn here already; the pool learns of it from the next frontend that meets it
                LogPenaltyNotReported(logger, ex, alias.Index, model);
            }
        }
        else if (!(holdTransient && classification.Outcome == UpstreamOutcome.Transient))
        {
            reporter.Report(report);
        }
    }

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Key #{KeyIndex} failed for {Model} ({Status}): {Reason}; trying another key")]
    private static partial void LogAttemptFailed(ILogger logger, int keyIndex, string model, int status, string reason);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "The pool was not told that key #{KeyIndex} failed for {Model}; it is withdrawn on this frontend and the request goes on")]
    private static partial void LogPenaltyNotReported(ILogger logger, Exception exception, int keyIndex, string model);
}
