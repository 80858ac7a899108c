using GeminiParty.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace GeminiParty.Frontend.Observability;

/// <summary>
/// The cluster as Orleans' membership table sees it (through the management grain), so every frontend, embedded or
/// client, shows the same silos. A failure to ask is part of the answer, not an error of the status request.
/// </summary>
public sealed partial class ClusterMembership(IGrainFactory grains, IOptions<ClusterHostingOptions> options, ILogger<ClusterMembership> logger)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private readonly ClusterHostingOptions _options = options.Value;

    /// <summary>"redis" in cluster mode, "memory" when the frontend hosts its own silo.</summary>
    public string Storage => _options.IsCluster ? "redis" : "memory";

    public string Mode => _options.IsCluster ? "cluster" : "embedded";

    public string ClusterId => _options.ClusterId;

    public string ServiceId => _options.ServiceId;

    /// <summary>Every silo in the membership table, dead ones included until Orleans cleans them up.</summary>
    public async Task<SiloView[]?> SilosAsync()
    {
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false).WaitAsync(Timeout);
            return hosts
                .OrderBy(host => host.Status == SiloStatus.Dead)
                .ThenBy(host => host.SiloName, StringComparer.Ordinal)
                .Select(host => new SiloView(
                    host.SiloAddress.ToParsableString(),
                    host.SiloName,
                    host.HostName,
                    host.Status.ToString(),
                    new DateTimeOffset(DateTime.SpecifyKind(host.StartTime, DateTimeKind.Utc)),
                    new DateTimeOffset(DateTime.SpecifyKind(host.IAmAliveTime, DateTimeKind.Utc))))
                .ToArray();
        }
        catch (Exception ex)
        {
            // best effort, for display: whatever stops the read leaves the silos out of the answer. Not only Orleans'
            // own exceptions: with Redis restarting, the silo's Redis exception has no Orleans codec and arrives as a
            // CodecNotFoundException, which must not turn /rotation-status into a 500
            LogMembershipUnavailable(logger, ex);
            return null;
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Could not read the cluster membership for /rotation-status")]
    private static partial void LogMembershipUnavailable(ILogger logger, Exception exception);
}

/// <summary>One silo as /rotation-status shows it.</summary>
/// <param name="Address">Orleans' address (ip:port@generation).</param>
/// <param name="Status">Joining, Active, ShuttingDown, Stopping or Dead.</param>
/// <param name="LastHeartbeat">When the silo last wrote "I am alive" to the membership table.</param>
public sealed record SiloView(string Address, string Name, string Host, string Status, DateTimeOffset StartedAt, DateTimeOffset LastHeartbeat);
