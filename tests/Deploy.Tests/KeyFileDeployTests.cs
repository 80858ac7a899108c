using System.Text.RegularExpressions;

namespace GeminiParty.Deploy.Tests;

/// <summary>
/// The key file as deployed: mounted from the Secret as a folder in every silo and frontend (so a changed Secret
/// reaches running pods), in compose too; and the alert rules, which must parse and read only metrics that exist.
/// </summary>
public sealed partial class KeyFileDeployTests(RenderedManifests manifests) : IClassFixture<RenderedManifests>
{
    [Theory]
    [InlineData(AppRole.Silo)]
    [InlineData(AppRole.Frontend)]
    public void The_key_file_is_the_secret_mounted_as_a_folder(AppRole role)
    {
        var container = manifests.Single(role);
        var path = container.EnvVar("GEMINI_API_KEY_FILE").Str("value");
        Assert.False(string.IsNullOrEmpty(path), $"{container} does not set GEMINI_API_KEY_FILE");

        var mount = container.Node.Seq("volumeMounts").Single(m => path!.StartsWith(m.Str("mountPath")! + "/", StringComparison.Ordinal));
        Assert.Null(mount.Str("subPath")); // the kubelet never updates a subPath mount
        Assert.Equal("true", mount.Str("readOnly")?.ToLowerInvariant());
        var volume = container.PodSpec.Seq("volumes").Single(v => v.Str("name") == mount.Str("name"));
        Assert.Equal("gemini-party-secrets", volume.Str("secret.secretName"));
        var item = Assert.Single(volume.Seq("secret.items"));
        Assert.Equal(Path.GetFileName(path), item.Str("path"));

        var example = YamlTree.Load(RepoRoot.ReadText("deploy/k8s/secret.example.yaml"));
        var exampleFile = example.StringMap("stringData")[item.Str("key")!];
        Assert.Contains("project=", exampleFile);
    }

    [Fact]
    public void The_alert_rules_render_parse_and_read_only_metrics_the_frontends_export()
    {
        var rule = Assert.Single(manifests.OfKind("PrometheusRule"));
        Assert.Equal("monitoring.coreos.com/v1", rule.Root.Str("apiVersion"));
        var rules = rule.Root.Seq("spec.groups").SelectMany(group => group.Seq("rules")).ToList();
        var alerts = rules.Select(r => r.Str("alert")).ToList();
        foreach (var wanted in new[] { "GeminiPartyFewUsableKeys", "GeminiPartyInvalidKeysRising", "GeminiPartyAllKeysCooling", "GeminiPartySiloDown" })
        {
            Assert.Contains(wanted, alerts);
        }
        var exported = ExportedMetrics();
        foreach (var r in rules)
        {
            var expr = r.Str("expr")!;
            Assert.True(Balanced(expr), $"{r.Str("alert")}: unbalanced brackets in {expr}");
            Assert.False(string.IsNullOrWhiteSpace(r.Str("annotations.summary")), $"{r.Str("alert")} has no summary");
            Assert.NotNull(r.Str("for"));
            foreach (Match metric in MetricName().Matches(expr))
            {
                Assert.True(exported.Contains(metric.Value), $"{r.Str("alert")} reads {metric.Value}, which no frontend exports ({string.Join(", ", exported.Order())})");
            }
        }
    }

    [Fact]
    public void Compose_mounts_the_key_folder_read_only_where_env_example_points()
    {
        var compose = YamlTree.Load(RepoRoot.ReadText("docker-compose.yaml"));
        var example = RepoRoot.ReadText(".env.example");
        var file = Regex.Match(example, "GEMINI_API_KEY_FILE=(\\S+)").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(file), ".env.example does not show GEMINI_API_KEY_FILE");
        foreach (var (name, service) in compose.Map("services")!)
        {
            if (service.Str("command") is null && service.Strings("command").Count == 0 || !service.Strings("command").Any(word => word.Contains("GeminiParty", StringComparison.Ordinal)))
            {
                continue;
            }
            var volumes = service.Strings("volumes");
            Assert.Contains(volumes, v => v.Split(':') is [_, var target, "ro"] && file.StartsWith(target + "/", StringComparison.Ordinal));
        }
    }

    /// <summary>The Prometheus names of the instruments FrontendMetrics creates: dots become underscores, counters end in _total.</summary>
    private static HashSet<string> ExportedMetrics()
    {
        var source = RepoRoot.ReadText("src/Frontend/Observability/FrontendMetrics.cs");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in Instrument().Matches(source))
        {
            var name = match.Groups["name"].Value.Replace('.', '_');
            names.Add(match.Groups["kind"].Value.Contains("Counter", StringComparison.Ordinal) ? name + "_total" : name);
        }
        return names;
    }

    private static bool Balanced(string expr)
    {
        var stack = new Stack<char>();
        foreach (var c in expr)
        {
            if (c is '(' or '[' or '{')
            {
                stack.Push(c);
            }
            else if (c is ')' or ']' or '}')
            {
                var open = c switch { ')' => '(', ']' => '[', _ => '{' };
                if (stack.Count == 0 || stack.Pop() != open)
                {
                    return false;
                }
            }
        }
        return stack.Count == 0;
    }

    [GeneratedRegex("""(?<kind>Create\w*(?:Counter|Gauge|Histogram)\w*)(?:<\w+>)?\("(?<name>gemini_party\.[a-z_.]+)""")]
    private static partial Regex Instrument();

    [GeneratedRegex("gemini_party_[a-z_]+")]
    private static partial Regex MetricName();
}
