namespace GeminiParty.Deploy.Tests;

/// <summary>The env-style settings files the deploy paths read: only names the app knows, no secrets where they do not belong.</summary>
public sealed class SettingsFileTests
{
    [Fact]
    public void Kubernetes_config_env_holds_known_non_secret_settings()
    {
        var names = Keys("deploy/k8s/config.env");
        Assert.Contains("REDIS_CONNECTION_STRING", names);
        Assert.All(names, n => Assert.True(KnownSettings.IsKnown(n), $"config.env: unknown setting {n}"));
        Assert.All(KnownSettings.Secrets, s => Assert.DoesNotContain(s, names));
    }

    [Fact]
    public void Env_example_names_only_known_settings()
    {
        Assert.SkipUnless(File.Exists(RepoRoot.File(".env.example")), ".env.example not written yet");
        var names = Keys(".env.example");
        Assert.All(names, n => Assert.True(KnownSettings.IsKnown(n), $".env.example: unknown setting {n}"));
    }

    private static IReadOnlyList<string> Keys(string relative) =>
        RepoRoot.ReadText(relative).Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#') && line.Contains('='))
            .Select(line => line.Split('=', 2)[0].Replace("export ", "", StringComparison.Ordinal).Trim())
            .ToList();
}
