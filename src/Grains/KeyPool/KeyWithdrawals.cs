using Microsoft.Extensions.Logging;

namespace GeminiParty;

/// <summary>
/// Tells the frontends holding leased keys to drop one, and numbers the withdrawals: every lease carries the latest
/// number, so a frontend can tell a withdrawal it has not applied yet from one its lease already reflects.
/// </summary>
internal sealed partial class KeyWithdrawals(PoolSubscribers subscribers, ILogger logger)
{
    public long Version { get; private set; }

    /// <summary>
    /// Versions keep growing across activations (as the clock does), so a frontend never mistakes a new pool's
    /// withdrawal for an old one.
    /// </summary>
    public void StartAt(DateTimeOffset now) => Version = now.UtcTicks;

    /// <summary>Tells the frontends holding leased keys to drop this one (for the model, or everywhere), and waits for them.</summary>
    public Task Withdraw(KeyAlias key, string? model) =>
        subscribers.NotifyAsync(new KeyWithdrawal(key, model, ++Version), ex => LogNotifyFailed(logger, ex));

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "A frontend could not be told of a withdrawn key; its subscription is dropped until its next lease")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception);
}
