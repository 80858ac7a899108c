using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace GeminiParty.Hosting;

/// <summary>Where the Orleans cluster lives. Without REDIS_CONNECTION_STRING everything runs in one process.</summary>
public sealed class ClusterHostingOptions
{
    /// <summary>REDIS_CONNECTION_STRING: StackExchange.Redis syntax ("host:6379,password=..."). Set means cluster mode.</summary>
    [ConfigurationKeyName("REDIS_CONNECTION_STRING")]
    public string? RedisConnectionString { get; set; }

    private const string DefaultId = "gemini-party";
    private string _clusterId = DefaultId;
    private string _serviceId = DefaultId;

    /// <summary>ORLEANS_CLUSTER_ID: silos and frontends with the same id form one cluster. Empty means the default.</summary>
    [ConfigurationKeyName("ORLEANS_CLUSTER_ID")]
    public string ClusterId
    {
        get => _clusterId;
        set => _clusterId = string.IsNullOrWhiteSpace(value) ? DefaultId : value.Trim();
    }

    /// <summary>ORLEANS_SERVICE_ID: names the grain state in storage; keep it across deployments. Empty means the default.</summary>
    [ConfigurationKeyName("ORLEANS_SERVICE_ID")]
    public string ServiceId
    {
        get => _serviceId;
        set => _serviceId = string.IsNullOrWhiteSpace(value) ? DefaultId : value.Trim();
    }

    [ConfigurationKeyName("ORLEANS_SILO_PORT")]
    public int SiloPort { get; set; } = 11111;

    [ConfigurationKeyName("ORLEANS_GATEWAY_PORT")]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>ORLEANS_ADVERTISED_IP: the address other silos and clients reach this silo on.</summary>
    [ConfigurationKeyName("ORLEANS_ADVERTISED_IP")]
    public string? AdvertisedIp { get; set; }

    /// <summary>POD_IP from the Kubernetes downward API; used when ORLEANS_ADVERTISED_IP is not set.</summary>
    [ConfigurationKeyName("POD_IP")]
    public string? PodIp { get; set; }

    /// <summary>POD_NAME from the Kubernetes downward API: names the silo in membership and /rotation-status.</summary>
    [ConfigurationKeyName("POD_NAME")]
    public string? PodName { get; set; }

    public bool IsCluster => !string.IsNullOrWhiteSpace(RedisConnectionString);

    public IPAddress AdvertisedAddress =>
        IPAddress.TryParse(AdvertisedIp ?? PodIp, out var address) ? address : IPAddress.Loopback;
}

internal sealed class ClusterHostingOptionsValidator : IValidateOptions<ClusterHostingOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterHostingOptions options)
    {
        List<string> failures = [];
        if (options.SiloPort is < 1 or > 65535)
        {
            failures.Add($"ORLEANS_SILO_PORT is {options.SiloPort}: set it to a TCP port between 1 and 65535 (default 11111).");
        }
        if (options.GatewayPort is < 1 or > 65535)
        {
            failures.Add($"ORLEANS_GATEWAY_PORT is {options.GatewayPort}: set it to a TCP port between 1 and 65535 (default 30000).");
        }
        if (options.SiloPort == options.GatewayPort)
        {
            failures.Add("ORLEANS_SILO_PORT and ORLEANS_GATEWAY_PORT are equal: give them different ports.");
        }
        var ip = options.AdvertisedIp ?? options.PodIp;
        if (!string.IsNullOrWhiteSpace(ip) && !IPAddress.TryParse(ip, out _))
        {
            failures.Add($"ORLEANS_ADVERTISED_IP/POD_IP '{ip}' is not an IP address: set it to this silo's reachable IP.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
