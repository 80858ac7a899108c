using System.Text.RegularExpressions;

namespace GeminiParty.Deploy.Tests;

/// <summary>
/// The clients file (CLIENTS_FILE) as deployed: the Secret's <c>clients</c> entry mounted as a folder on every
/// frontend (so a revoked token reaches running pods), an example that holds tokens only as SHA-256, nothing of it in
/// the rendered manifests; and the same folder in compose.
/// </summary>
public sealed partial class ClientsFileDeployTests(RenderedManifests manifests) : IClassFixture<RenderedManifests>
{
    private static readonly HashSet<string> Limits = ["rpm", "rpd", "tpd", "concurrency", "models", "live"];

    [Fact]
    public void The_clients_file_is_the_secrets_clients_entry_mounted_as_a_folder_on_the_frontend()
    {
        var frontend = manifests.Single(AppRole.Frontend);
        var path = frontend.EnvVar("CLIENTS_FILE").Str("value");
        Assert.False(string.IsNullOrEmpty(path), $"{frontend} does not set CLIENTS_FILE");

        var mount = frontend.Node.Seq("volumeMounts").Single(m => path!.StartsWith(m.Str("mountPath")! + "/", StringComparison.Ordinal));
        Assert.Null(mount.Str("subPath")); // the kubelet never updates a subPath mount: a revoked token would live on
        Assert.Equal("true", mount.Str("readOnly")?.ToLowerInvariant());
        var volume = frontend.PodSpec.Seq("volumes").Single(v => v.Str("name") == mount.Str("name"));
        var example = YamlTree.Load(RepoRoot.ReadText("deploy/k8s/secret.example.yaml"));
        Assert.Equal(example.Str("metadata.name"), volume.Str("secret.secretName"));
        var item = Assert.Single(volume.Seq("secret.items"));
        Assert.Equal(Path.GetFileName(path), item.Str("path"));
        Assert.True(example.StringMap("stringData").ContainsKey(item.Str("key")!), $"the example Secret has no '{item.Str("key")}' entry");
    }

    [Fact]
    public void The_example_clients_hold_tokens_only_as_sha256_and_none_is_rendered()
    {
        var example = YamlTree.Load(RepoRoot.ReadText("deploy/k8s/secret.example.yaml"));
        var lines = example.StringMap("stringData")["clients"].Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .ToList();
        Assert.True(lines.Count >= 2, "the example shows a few clients");
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Matches(Sha256Token(), fields[1]);
            foreach (var attribute in fields.Skip(2))
            {
                Assert.Contains(attribute.Split('=')[0], Limits);
            }
            Assert.DoesNotContain(fields[1][7..], manifests.Yaml);
        }
        Assert.Contains(lines, line => line.Contains("rpm=", StringComparison.Ordinal) && line.Contains("tpd=", StringComparison.Ordinal));
        Assert.DoesNotContain("replace-with", manifests.Yaml); // no example value of the Secret is rendered
    }

    [Fact]
    public void Compose_mounts_the_clients_folder_read_only_on_the_frontends_where_env_example_points()
    {
        var compose = YamlTree.Load(RepoRoot.ReadText("docker-compose.yaml"));
        var file = Regex.Match(RepoRoot.ReadText(".env.example"), "CLIENTS_FILE=(\\S+)").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(file), ".env.example does not show CLIENTS_FILE");
        var frontends = compose.Map("services")!.Values
            .Where(service => service.Strings("command").Any(word => word.Contains("GeminiParty.Frontend.dll", StringComparison.Ordinal)))
            .ToList();
        Assert.NotEmpty(frontends);
        foreach (var service in frontends)
        {
            Assert.Contains(service.Strings("volumes"), v => v.Split(':') is [_, var target, "ro"] && file.StartsWith(target + "/", StringComparison.Ordinal));
        }
        Assert.Contains("/clients/", RepoRoot.ReadText(".gitignore").Split('\n'));
    }

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex Sha256Token();
}
