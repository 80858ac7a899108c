using System.Globalization;
using System.Text.RegularExpressions;

namespace GeminiParty.Deploy.Tests;

/// <summary>docker-compose.yaml as `docker compose up` reads it (anchors and merge keys resolved).</summary>
public sealed partial class ComposeFileTests
{
    private readonly Dictionary<object, object?> _compose = YamlTree.Load(RepoRoot.ReadText("docker-compose.yaml"));

    private IReadOnlyDictionary<string, object?> Services =>
        _compose.Map("services")?.ToDictionary(s => (string)s.Key, s => s.Value)
        ?? throw new Xunit.Sdk.XunitException("docker-compose.yaml has no services");

    private IEnumerable<(string Name, object? Service, AppRole Role)> AppServices =>
        Services.Where(s => s.Value.Str("image")?.Contains("gemini-party", StringComparison.Ordinal) == true
                            || s.Value.Get("build") is not null)
            .Select(s => (s.Key, s.Value, AppRoles.Of(s.Value.Strings("command"))));

    [Fact]
    public void Runs_redis_two_silos_two_frontends_and_one_load_balancer()
    {
        Assert.Contains("redis", Services.Keys);
        Assert.True(AppServices.Count(s => s.Role == AppRole.Silo) >= 2, "at least 2 silo services");
        Assert.True(AppServices.Count(s => s.Role == AppRole.Frontend) >= 2, "at least 2 frontend services");
        Assert.DoesNotContain(AppServices, s => s.Role == AppRole.None);
        Assert.DoesNotContain(AppServices, s => s.Service.Get("ports") is not null);
    }

    [Fact]
    public void App_services_share_one_image_built_from_the_dockerfile()
    {
        foreach (var (name, service, _) in AppServices)
        {
            Assert.True(AppDefaults.Image == service.Str("image"), $"{name}: image {service.Str("image")}");
            Assert.True(File.Exists(Path.Combine(RepoRoot.Path, service.Str("build.context") ?? "?",
                service.Str("build.dockerfile") ?? "Dockerfile")), $"{name}: build does not point at the Dockerfile");
        }
    }

    [Fact]
    public void App_services_read_env_file_and_set_only_known_settings()
    {
        foreach (var (name, service, _) in AppServices)
        {
            var envFiles = service.Get("env_file") switch
            {
                string single => [single],
                List<object?> many => many.Select(f => f as string ?? f.Str("path")).ToList(),
                _ => [],
            };
            Assert.True(envFiles.Contains(".env"), $"{name} does not read .env");

            var environment = Environment(service);
            Assert.All(environment.Keys, key => Assert.True(KnownSettings.IsKnown(key), $"{name}: unknown setting {key}"));
            Assert.All(KnownSettings.Secrets, secret =>
                Assert.False(environment.ContainsKey(secret), $"{name} sets {secret} in the compose file; it belongs in .env"));
        }
    }

    [Fact]
    public void App_services_have_healthchecks_on_their_own_port()
    {
        foreach (var (name, service, role) in AppServices)
        {
            var test = service.Strings("healthcheck.test");
            Assert.True(test is ["CMD", ..] or ["CMD-SHELL", ..], $"{name} has no healthcheck");
            Assert.Contains(AppDefaults.HealthcheckDll, test);
            var url = test.Single(t => t.StartsWith("http://", StringComparison.Ordinal));
            var port = role == AppRole.Silo ? AppDefaults.SiloHttpPort : AppDefaults.FrontendPort;
            Assert.Matches($@"^http://(127\.0\.0\.1|localhost):{port}/(healthz|readyz)$", url);
            var configuredPort = Environment(service).GetValueOrDefault("PORT");
            Assert.True(configuredPort is null || configuredPort == port.ToString(CultureInfo.InvariantCulture),
                $"{name}: PORT={configuredPort} but its healthcheck asks port {port}");
        }
    }

    [Fact]
    public void App_services_run_from_their_own_folder_and_stop_gracefully()
    {
        foreach (var (name, service, role) in AppServices)
        {
            var dll = role == AppRole.Silo ? AppDefaults.SiloDll : AppDefaults.FrontendDll;
            Assert.Contains(dll, service.Strings("command"));
            Assert.Equal(Path.GetDirectoryName(dll), service.Str("working_dir"));
            Assert.True(Seconds(service.Str("stop_grace_period") ?? "10s") >= AppDefaults.MinTerminationGraceSeconds,
                $"{name}: stop_grace_period must be >= {AppDefaults.MinTerminationGraceSeconds}s (Docker's default is 10 s)");
        }
    }

    [Fact]
    public void Start_order_waits_for_health()
    {
        var silos = AppServices.Where(s => s.Role == AppRole.Silo).Select(s => s.Name).ToList();
        foreach (var (name, service, role) in AppServices)
        {
            var needs = role == AppRole.Silo ? ["redis"] : silos.Append("redis");
            foreach (var dependency in needs)
            {
                Assert.True(service.Str($"depends_on.{dependency}.condition") == "service_healthy",
                    $"{name} must wait for {dependency} to be healthy");
            }
        }
    }

    [Fact]
    public void Silos_advertise_their_own_fixed_address()
    {
        var addresses = new List<string>();
        foreach (var (name, service, _) in AppServices.Where(s => s.Role == AppRole.Silo))
        {
            var advertised = Environment(service).GetValueOrDefault("ORLEANS_ADVERTISED_IP");
            var networks = service.Map("networks") ?? [];
            Assert.True(advertised is not null && networks.Values.Any(n => n.Str("ipv4_address") == advertised),
                $"{name} must advertise the fixed address it has on its network ({advertised})");
            addresses.Add(advertised!);
        }

        Assert.Equal(addresses.Count, addresses.Distinct().Count());
    }

    [Fact]
    public void Redis_persists_an_append_only_file_on_a_named_volume()
    {
        var redis = Services["redis"];
        var command = redis.Strings("command").ToList();
        var appendOnly = command.IndexOf("--appendonly");
        Assert.True(appendOnly >= 0 && command[appendOnly + 1] == "yes", "redis must run with --appendonly yes");
        var volume = Assert.Single(redis.Strings("volumes"));
        var source = volume.Split(':')[0];
        Assert.Equal("/data", volume.Split(':')[1]);
        Assert.True(_compose.Map("volumes")?.ContainsKey(source) == true, $"{source} is not a named volume");
        Assert.NotEmpty(redis.Strings("healthcheck.test"));
        Assert.All(AppServices, s => Assert.Equal($"redis:{AppDefaults.RedisPort}",
            Environment(s.Service).GetValueOrDefault("REDIS_CONNECTION_STRING")));
    }

    [Fact]
    public void One_published_port_balances_over_every_frontend()
    {
        var (name, balancer) = Services.Single(s => s.Value.Get("ports") is not null);
        Assert.Equal("3000", balancer.Strings("ports").Single().Split(':')[0]);
        var mount = balancer.Strings("volumes").Single(v => v.Contains("nginx.conf", StringComparison.Ordinal));
        var config = RepoRoot.ReadText(mount.Split(':')[0].TrimStart('.', '/'));
        var upstreams = UpstreamServer().Matches(config).Select(m => m.Groups[1].Value).ToHashSet();
        var frontends = AppServices.Where(s => s.Role == AppRole.Frontend)
            .Select(s => $"{s.Name}:{AppDefaults.FrontendPort}").ToHashSet();
        Assert.True(frontends.SetEquals(upstreams),
            $"{name} balances over {string.Join(", ", upstreams)}, the frontends are {string.Join(", ", frontends)}");
        Assert.Matches(@"listen\s+3000;", config);
        Assert.Contains("proxy_buffering off;", config);
        Assert.True(Services.Keys.Where(k => frontends.Any(f => f.StartsWith(k + ":", StringComparison.Ordinal)))
            .All(k => balancer.Str($"depends_on.{k}.condition") == "service_healthy"));
    }

    private static IReadOnlyDictionary<string, string> Environment(object? service) => service.Get("environment") switch
    {
        Dictionary<object, object?> map => map.ToDictionary(p => (string)p.Key, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? ""),
        List<object?> list => list.OfType<string>().Select(e => e.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 ? parts[1] : ""),
        _ => new Dictionary<string, string>(),
    };

    private static double Seconds(string duration)
    {
        var match = Regex.Match(duration, @"^(?:(\d+)m)?(?:(\d+)s)?$");
        Assert.True(match.Success, $"cannot read duration {duration}");
        return (match.Groups[1].Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * 60 : 0)
               + (match.Groups[2].Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : 0);
    }

    [GeneratedRegex(@"^\s*server\s+([\w.-]+:\d+)", RegexOptions.Multiline)]
    private static partial Regex UpstreamServer();
}
