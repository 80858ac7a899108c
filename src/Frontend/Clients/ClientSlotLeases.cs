using System.Collections.Concurrent;

namespace GeminiParty.Frontend.Clients;

/// <summary>
/// The concurrency slots this frontend's requests hold, renewed every <see cref="RenewEvery"/> while the requests run.
/// When the frontend dies, nobody renews them and the client grain frees them when their lease runs out.
/// </summary>
public sealed partial class ClientSlotLeases(ClientGrains grains, TimeProvider time, ILogger<ClientSlotLeases> logger) : BackgroundService
{
    /// <summary>A third of the grain's slot lease: two renewals may fail before a slot of a live request expires.</summary>
    public static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(20);

    private readonly ConcurrentDictionary<long, string> _held = new();

    public void Hold(string client, long slot) => _held[slot] = client;

    public void Release(long slot) => _held.TryRemove(slot, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RenewEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (var client in _held.GroupBy(pair => pair.Value, pair => pair.Key))
                {
                    try
                    {
                        await grains.For(client.Key).RenewAsync([.. client]);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogRenewFailed(logger, ex, client.Key);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "Could not renew the concurrency slots of client {Client}; retrying at the next renewal")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, string client);
}
