using System.Globalization;

namespace GeminiParty.Deploy.Tests;

/// <summary>One object of the rendered kustomize output.</summary>
public sealed record K8sObject(string Kind, string Name, Dictionary<object, object?> Root)
{
    public override string ToString() => $"{Kind}/{Name}";
}

/// <summary>A container of a workload, with what is needed to judge it: its pod spec and pod labels.</summary>
public sealed record ContainerView(K8sObject Owner, object? PodSpec, IReadOnlyDictionary<string, string> PodLabels,
    Dictionary<object, object?> Node)
{
    public string Name => Node.Str("name") ?? "?";

    public string Image => Node.Str("image") ?? "";

    public IReadOnlyList<string> CommandLine => [.. Node.Strings("command"), .. Node.Strings("args")];

    public AppRole Role => IsApp ? AppRoles.Of(Node.Strings("command")) : AppRole.None;

    /// <summary>Runs gemini-party (rather than Redis or a sidecar).</summary>
    public bool IsApp =>
        Image.Contains("gemini-party", StringComparison.Ordinal)
        || CommandLine.Any(word => word.Contains("GeminiParty.", StringComparison.Ordinal));

    public IReadOnlyList<object?> Env => Node.Seq("env");

    public object? EnvVar(string name) => Env.FirstOrDefault(e => e.Str("name") == name);

    /// <summary>A container port by number or by name (as probes and Services may refer to it).</summary>
    public int? ResolvePort(object? port)
    {
        var text = Convert.ToString(port, CultureInfo.InvariantCulture);
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        return Node.Seq("ports").FirstOrDefault(p => p.Str("name") == text).Int("containerPort");
    }

    public IReadOnlyList<int> ContainerPorts =>
        Node.Seq("ports").Select(p => p.Int("containerPort")).OfType<int>().ToList();

    public override string ToString() => $"{Owner}/{Name}";
}

/// <summary>`kubectl kustomize deploy/k8s`, run once per test class and parsed.</summary>
public sealed class RenderedManifests
{
    private static readonly string[] WorkloadKinds = ["Deployment", "StatefulSet", "DaemonSet"];

    public RenderedManifests()
    {
        var result = ProcessRunner.Run(
            "kubectl",
            ["kustomize", Path.Combine(RepoRoot.Path, "deploy", "k8s")],
            "These tests render deploy/k8s with `kubectl kustomize`: install kubectl (it bundles kustomize) and put it on PATH.");
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl kustomize deploy/k8s failed: {result.Describe()}");
        }

        Yaml = result.StandardOutput;
        Objects = YamlTree.LoadAll(Yaml)
            .Select(root => new K8sObject(root.Str("kind") ?? "", root.Str("metadata.name") ?? "", root))
            .ToList();
        Containers = Objects
            .Where(o => WorkloadKinds.Contains(o.Kind))
            .SelectMany(o =>
            {
                var podSpec = o.Root.At("spec.template.spec");
                var labels = o.Root.StringMap("spec.template.metadata.labels");
                return podSpec.Seq("containers").OfType<Dictionary<object, object?>>()
                    .Select(c => new ContainerView(o, podSpec, labels, c));
            })
            .ToList();
    }

    public string Yaml { get; }

    public IReadOnlyList<K8sObject> Objects { get; }

    public IReadOnlyList<ContainerView> Containers { get; }

    public IEnumerable<ContainerView> AppContainers => Containers.Where(c => c.IsApp);

    public IEnumerable<K8sObject> OfKind(string kind) => Objects.Where(o => o.Kind == kind);

    public ContainerView Single(AppRole role)
    {
        var matches = AppContainers.Where(c => c.Role == role).ToList();
        Assert.True(matches.Count == 1, $"expected one {role} container, found {matches.Count}");
        return matches[0];
    }

    /// <summary>The pod labels of the workload running Redis.</summary>
    public IReadOnlyDictionary<string, string> RedisPodLabels =>
        Containers.Single(c => c.Image.StartsWith("redis", StringComparison.Ordinal)).PodLabels;
}

/// <summary>Kubernetes label selector semantics (matchLabels and matchExpressions), enough for these checks.</summary>
internal static class LabelSelectors
{
    public static bool Matches(object? selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector is not Dictionary<object, object?>)
        {
            return false;
        }

        var byLabels = selector.StringMap("matchLabels")
            .All(pair => labels.TryGetValue(pair.Key, out var value) && value == pair.Value);
        var byExpressions = selector.Seq("matchExpressions").All(expression =>
        {
            var key = expression.Str("key") ?? "";
            var values = expression.Strings("values");
            var has = labels.TryGetValue(key, out var value);
            return expression.Str("operator") switch
            {
                "In" => has && values.Contains(value!),
                "NotIn" => !has || !values.Contains(value!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
        });
        return byLabels && byExpressions;
    }
}
