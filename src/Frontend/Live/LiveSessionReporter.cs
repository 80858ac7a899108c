using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// Tells the pool how many Live sessions this frontend has open per key: within <see cref="AttemptReporter.FlushInterval"/>
/// of a change, and every <see cref="RefreshInterval"/> while any is open, so the pool's count survives the pool moving
/// to another silo and ends by itself if this frontend dies (<see cref="IKeyPoolGrain.LiveSessionsLifetime"/>).
/// </summary>
/// <remarks>
/// Whole counts rather than "opened" and "closed" events through <see cref="AttemptReporter"/>: an event lost with a
/// dying silo, or a frontend killed with sessions open, would leave an event-built count wrong until the pool restarts.
/// </remarks>
public sealed partial class LiveSessionReporter(
    LiveSessions sessions,
    KeyPoolReference pool,
    TimeProvider time,
    ILogger<LiveSessionReporter> logger) : BackgroundService
{
    /// <summary>A third of the pool's lifetime for a report: two can be lost before the count lapses.</summary>
    public static readonly TimeSpan RefreshInterval = IKeyPoolGrain.LiveSessionsLifetime / 3;

    private readonly Guid _sender = Guid.NewGuid();
    private long _sequence;
    private long _sentVersion;
    private int _sentCount;
    private DateTimeOffset _sentAt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(AttemptReporter.FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var changed = sessions.Version != _sentVersion;
                var due = _sentCount > 0 && time.GetUtcNow() - _sentAt >= RefreshInterval;
                if (changed || due)
                {
                    await SendAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        if (sessions.Version != _sentVersion)
        {
            await SendAsync(); // the sessions this stop closed
        }
    }

    private async Task SendAsync()
    {
        var version = sessions.Version;
        var open = sessions.Snapshot();
        try
        {
            await pool.Reference.ReportLiveSessionsAsync(new LiveSessionCounts(_sender, ++_sequence, open));
            _sentVersion = version;
            _sentCount = open.Length;
            _sentAt = time.GetUtcNow();
        }
        catch (Exception ex)
        {
            // the pool is unreachable or moving: the next tick sends the counts of that moment
            LogNotSent(logger, ex.GetType().Name);
        }
    }

    [LoggerMessage(EventId = 3401, Level = LogLevel.Debug, Message = "Live session counts not sent to the pool ({Error}); sending them again")]
    private static partial void LogNotSent(ILogger logger, string error);
}
