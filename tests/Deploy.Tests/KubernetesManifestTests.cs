using System.Globalization;

namespace GeminiParty.Deploy.Tests;

/// <summary>deploy/k8s as `kubectl apply -k` would send it: rendered by kustomize, then checked object by object.</summary>
public sealed class KubernetesManifestTests(RenderedManifests manifests) : IClassFixture<RenderedManifests>
{
    [Fact]
    public void Renders_the_whole_cluster_and_ships_no_secret()
    {
        var kinds = manifests.Objects.Select(o => o.Kind).ToHashSet();
        foreach (var kind in new[]
                 {
                     "ConfigMap", "Service", "Deployment", "StatefulSet", "PodDisruptionBudget",
                     "HorizontalPodAutoscaler", "NetworkPolicy",
                 })
        {
            Assert.True(kinds.Contains(kind), $"no {kind} rendered; kinds: {string.Join(", ", kinds)}");
        }

        Assert.Contains(manifests.AppContainers, c => c.Role == AppRole.Silo);
        Assert.Contains(manifests.AppContainers, c => c.Role == AppRole.Frontend);
        // The Secret is created by the operator (secret.example.yaml); a rendered one would ship placeholder keys.
        Assert.DoesNotContain(manifests.Objects, o => o.Kind == "Secret");
        Assert.All(manifests.Objects, o => Assert.Null(o.Root.Str("metadata.namespace")));
    }

    [Fact]
    public void Every_object_carries_the_app_label()
    {
        var unlabelled = manifests.Objects
            .Where(o => o.Root.StringMap("metadata.labels").GetValueOrDefault("app.kubernetes.io/name") != "gemini-party")
            .Select(o => o.ToString());
        Assert.Empty(unlabelled);
    }

    [Fact]
    public void Every_container_has_probes_and_resources()
    {
        var problems = new List<string>();
        foreach (var container in manifests.Containers)
        {
            foreach (var field in new[]
                     {
                         "readinessProbe", "livenessProbe", "resources.requests.cpu", "resources.requests.memory",
                         "resources.limits.memory",
                     })
            {
                if (container.Node.At(field) is null)
                {
                    problems.Add($"{container}: no {field}");
                }
            }
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void App_containers_set_only_settings_the_app_reads()
    {
        var configMaps = manifests.OfKind("ConfigMap").ToDictionary(c => c.Name);
        var unknown = new List<string>();
        foreach (var container in manifests.AppContainers)
        {
            var names = container.Env.Select(e => e.Str("name") ?? "").ToList();
            foreach (var source in container.Node.Seq("envFrom"))
            {
                var configMapName = source.Str("configMapRef.name");
                if (configMapName is not null)
                {
                    Assert.True(configMaps.TryGetValue(configMapName, out var configMap),
                        $"{container} reads ConfigMap {configMapName}, which is not rendered");
                    names.AddRange(configMap.Root.StringMap("data").Keys);
                }
            }

            unknown.AddRange(names.Where(n => !KnownSettings.IsKnown(n)).Select(n => $"{container}: {n}"));
        }

        Assert.Empty(unknown);
    }

    [Fact]
    public void Keys_and_tokens_come_from_the_secret_never_a_literal()
    {
        var example = YamlTree.Load(RepoRoot.ReadText("deploy/k8s/secret.example.yaml"));
        Assert.Equal("Secret", example.Str("kind"));
        var exampleName = example.Str("metadata.name");
        var exampleKeys = example.StringMap("stringData").Keys.Concat(example.StringMap("data").Keys).ToHashSet();

        var silo = manifests.Single(AppRole.Silo);
        var frontend = manifests.Single(AppRole.Frontend);
        var required = new[] { (silo, "GEMINI_API_KEY"), (frontend, "GEMINI_API_KEY"), (frontend, "AUTH_TOKEN") };
        foreach (var (container, name) in required)
        {
            var env = container.EnvVar(name);
            Assert.True(env is not null, $"{container} does not set {name}");
            Assert.Null(env.Str("value"));
            Assert.Equal(exampleName, env.Str("valueFrom.secretKeyRef.name"));
            Assert.Equal(name, env.Str("valueFrom.secretKeyRef.key"));
            Assert.Contains(name, exampleKeys);
        }

        foreach (var secret in KnownSettings.Secrets)
        {
            Assert.DoesNotContain(manifests.Containers, c => c.EnvVar(secret).Str("value") is not null);
            Assert.DoesNotContain(manifests.OfKind("ConfigMap"), c => c.Root.StringMap("data").ContainsKey(secret));
        }
    }

    [Fact]
    public void Ports_and_probes_match_the_app_defaults()
    {
        var frontend = manifests.Single(AppRole.Frontend);
        Assert.Contains(AppDefaults.FrontendPort, frontend.ContainerPorts);
        AssertEnvIs(frontend, "PORT", AppDefaults.FrontendPort);
        AssertProbesOn(frontend, AppDefaults.FrontendPort);

        var silo = manifests.Single(AppRole.Silo);
        Assert.Equal(
            new[] { AppDefaults.SiloHttpPort, AppDefaults.SiloPort, AppDefaults.GatewayPort }.Order(),
            silo.ContainerPorts.Order());
        AssertEnvIs(silo, "PORT", AppDefaults.SiloHttpPort);
        AssertEnvIs(silo, "ORLEANS_SILO_PORT", AppDefaults.SiloPort);
        AssertEnvIs(silo, "ORLEANS_GATEWAY_PORT", AppDefaults.GatewayPort);
        AssertProbesOn(silo, AppDefaults.SiloHttpPort);
    }

    [Fact]
    public void All_app_containers_run_one_image_from_its_own_folder()
    {
        Assert.Equal([AppDefaults.Image], manifests.AppContainers.Select(c => c.Image).Distinct());
        foreach (var container in manifests.AppContainers)
        {
            var dll = container.CommandLine.Single(w => w.EndsWith(".dll", StringComparison.Ordinal));
            Assert.True(dll is AppDefaults.SiloDll or AppDefaults.FrontendDll, $"{container} runs {dll}");
            // The working directory is the content root, where the process finds its appsettings.json.
            Assert.Equal(Path.GetDirectoryName(dll), container.Node.Str("workingDir"));
        }
    }

    [Fact]
    public void Silos_take_their_identity_from_the_downward_api()
    {
        var silo = manifests.Single(AppRole.Silo);
        Assert.Equal("metadata.name", silo.EnvVar("POD_NAME").Str("valueFrom.fieldRef.fieldPath"));
        Assert.Equal("status.podIP", silo.EnvVar("POD_IP").Str("valueFrom.fieldRef.fieldPath"));
        var advertised = silo.EnvVar("ORLEANS_ADVERTISED_IP");
        Assert.True(
            advertised.Str("valueFrom.fieldRef.fieldPath") == "status.podIP" || advertised.Str("value") == "$(POD_IP)",
            "ORLEANS_ADVERTISED_IP must be the pod IP");
        Assert.True(silo.Owner.Root.Int("spec.replicas") >= 2, "run at least 2 silos");
    }

    [Fact]
    public void Termination_grace_outlasts_the_silo_flush_and_the_frontend_drain()
    {
        var silo = manifests.Single(AppRole.Silo);
        Assert.True(silo.PodSpec.Int("terminationGracePeriodSeconds") >= AppDefaults.MinTerminationGraceSeconds,
            $"silo terminationGracePeriodSeconds must be >= {AppDefaults.MinTerminationGraceSeconds}");

        // The frontend's grace covers its preStop pause plus the ~30 s drain that follows SIGTERM.
        var frontend = manifests.Single(AppRole.Frontend);
        var preStop = frontend.Node.Strings("lifecycle.preStop.exec.command");
        var pause = preStop is ["sleep", var seconds] ? int.Parse(seconds, CultureInfo.InvariantCulture)
            : frontend.Node.Int("lifecycle.preStop.sleep.seconds")
              ?? throw new Xunit.Sdk.XunitException("the frontend needs a preStop pause so endpoints drain first");
        Assert.True(pause > 0);
        Assert.True(frontend.PodSpec.Int("terminationGracePeriodSeconds") >= pause + AppDefaults.MinTerminationGraceSeconds,
            "frontend terminationGracePeriodSeconds must cover the preStop pause plus the 30 s drain");
    }

    [Fact]
    public void A_disruption_budget_keeps_a_silo()
    {
        var silo = manifests.Single(AppRole.Silo);
        var budgets = manifests.OfKind("PodDisruptionBudget")
            .Where(p => LabelSelectors.Matches(p.Root.At("spec.selector"), silo.PodLabels))
            .ToList();
        var budget = Assert.Single(budgets);
        Assert.True(budget.Root.Int("spec.minAvailable") >= 1, "the silo PDB must keep at least one silo");
        Assert.False(LabelSelectors.Matches(budget.Root.At("spec.selector"), manifests.Single(AppRole.Frontend).PodLabels));
    }

    [Fact]
    public void Frontends_scale_on_cpu_from_two_replicas()
    {
        var frontend = manifests.Single(AppRole.Frontend);
        var autoscaler = Assert.Single(manifests.OfKind("HorizontalPodAutoscaler"));
        Assert.Equal(frontend.Owner.Kind, autoscaler.Root.Str("spec.scaleTargetRef.kind"));
        Assert.Equal(frontend.Owner.Name, autoscaler.Root.Str("spec.scaleTargetRef.name"));
        Assert.True(autoscaler.Root.Int("spec.minReplicas") >= 2, "at least 2 frontends");
        Assert.Contains(autoscaler.Root.Seq("spec.metrics"), m => m.Str("resource.name") == "cpu");
        // With an autoscaler, a fixed replica count would be reset by every `kubectl apply`.
        var replicas = frontend.Owner.Root.Int("spec.replicas");
        Assert.True(replicas is null or >= 2);
    }

    [Fact]
    public void The_frontend_service_reaches_frontend_pods_on_the_app_port()
    {
        var frontend = manifests.Single(AppRole.Frontend);
        var service = Assert.Single(manifests.OfKind("Service"),
            s => LabelSelectors.Matches(new Dictionary<object, object?> { ["matchLabels"] = s.Root.At("spec.selector") },
                frontend.PodLabels));
        var port = Assert.Single(service.Root.Seq("spec.ports"));
        Assert.Equal(AppDefaults.FrontendPort, frontend.ResolvePort(port.Get("targetPort") ?? port.Get("port")));
    }

    [Fact]
    public void Redis_persists_to_a_volume_and_is_what_the_app_connects_to()
    {
        var redis = manifests.Containers.Single(c => c.Image.StartsWith("redis", StringComparison.Ordinal));
        Assert.Equal("StatefulSet", redis.Owner.Kind);
        var args = redis.CommandLine.ToList();
        var appendOnly = args.IndexOf("--appendonly");
        Assert.True(appendOnly >= 0 && args[appendOnly + 1] == "yes", "redis must run with --appendonly yes");

        var claim = Assert.Single(redis.Owner.Root.Seq("spec.volumeClaimTemplates")).Str("metadata.name");
        var dataDir = args.IndexOf("--dir") is var dir and >= 0 ? args[dir + 1] : "/data";
        Assert.Contains(redis.Node.Seq("volumeMounts"), m => m.Str("name") == claim && m.Str("mountPath") == dataDir);

        var connection = Assert.Single(manifests.OfKind("ConfigMap")).Root.Str("data.REDIS_CONNECTION_STRING");
        Assert.False(string.IsNullOrEmpty(connection), "the ConfigMap must set REDIS_CONNECTION_STRING (cluster mode)");
        var (host, port) = (connection.Split(',')[0].Split(':')[0], int.Parse(connection.Split(',')[0].Split(':')[1], CultureInfo.InvariantCulture));
        var service = manifests.OfKind("Service").SingleOrDefault(s => s.Name == host);
        Assert.True(service is not null, $"REDIS_CONNECTION_STRING names {host}, which is no rendered Service");
        Assert.True(LabelSelectors.Matches(new Dictionary<object, object?> { ["matchLabels"] = service.Root.At("spec.selector") },
            redis.PodLabels), $"Service {host} does not select the Redis pods");
        var servicePort = Assert.Single(service.Root.Seq("spec.ports"), p => p.Int("port") == port);
        Assert.Equal(AppDefaults.RedisPort, redis.ResolvePort(servicePort.Get("targetPort") ?? servicePort.Get("port")));
    }

    [Theory]
    [InlineData(AppRole.Silo, AppDefaults.SiloPort)]
    [InlineData(AppRole.Silo, AppDefaults.GatewayPort)]
    [InlineData(AppRole.None, AppDefaults.RedisPort)]
    public void Cluster_ports_are_open_only_to_silos_and_frontends(AppRole target, int port)
    {
        var targetLabels = target == AppRole.None ? manifests.RedisPodLabels : manifests.Single(target).PodLabels;
        var allowed = new[] { manifests.Single(AppRole.Silo).PodLabels, manifests.Single(AppRole.Frontend).PodLabels };
        // Pods that must not get in: another pod of the app, any unlabelled pod, Redis itself.
        var strangers = new IReadOnlyDictionary<string, string>[]
        {
            new Dictionary<string, string> { ["app.kubernetes.io/name"] = "gemini-party", ["app.kubernetes.io/component"] = "other" },
            new Dictionary<string, string>(),
            manifests.RedisPodLabels,
        };

        var policies = manifests.OfKind("NetworkPolicy")
            .Where(p => LabelSelectors.Matches(p.Root.At("spec.podSelector"), targetLabels))
            .ToList();
        Assert.True(policies.Count > 0, $"no NetworkPolicy protects port {port}");
        Assert.All(policies, p => Assert.Contains("Ingress", p.Root.Strings("spec.policyTypes")));

        var rules = policies.SelectMany(p => p.Root.Seq("spec.ingress"))
            .Where(rule => rule.Seq("ports").Count == 0 || rule.Seq("ports").Any(p => p.Int("port") == port))
            .ToList();
        Assert.NotEmpty(rules);
        foreach (var rule in rules)
        {
            var sources = rule.Seq("from");
            Assert.True(sources.Count > 0, $"a rule opens port {port} to everyone");
            foreach (var source in sources)
            {
                Assert.Null(source.Get("ipBlock"));
                Assert.Null(source.Get("namespaceSelector"));
                var selector = source.Get("podSelector");
                Assert.True(allowed.Any(labels => LabelSelectors.Matches(selector, labels)),
                    $"port {port}: a source selects neither silos nor frontends");
                Assert.DoesNotContain(strangers, labels => LabelSelectors.Matches(selector, labels));
            }
        }
    }

    private static void AssertEnvIs(ContainerView container, string name, int expected)
    {
        var value = container.EnvVar(name).Str("value");
        Assert.True(value is null || value == expected.ToString(CultureInfo.InvariantCulture),
            $"{container}: {name}={value}, but the deploy files assume {expected}");
    }

    private static void AssertProbesOn(ContainerView container, int port)
    {
        foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
        {
            if (container.Node.At(probe) is not { } node)
            {
                continue;
            }

            Assert.True(node.At("httpGet") is not null, $"{container}: {probe} should be an HTTP probe");
            Assert.Equal(port, container.ResolvePort(node.At("httpGet.port")));
            Assert.Equal(probe == "readinessProbe" ? "/readyz" : "/healthz", node.Str("httpGet.path"));
        }
    }
}
