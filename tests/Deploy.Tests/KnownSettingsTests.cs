using System.Text.RegularExpressions;

namespace GeminiParty.Deploy.Tests;

public sealed class KnownSettingsTests
{
    /// <summary>Guards the scan itself: if it found nothing, every "is it known" check above would be meaningless.</summary>
    [Fact]
    public void The_settings_scanned_from_the_source_include_the_documented_ones()
    {
        foreach (var name in new[] { "GEMINI_API_KEY", "AUTH_TOKEN", "REDIS_CONNECTION_STRING", "PORT", "POD_IP", "POD_NAME", "LOG_FORMAT" })
        {
            Assert.True(KnownSettings.Names.Contains(name), $"{name} not found in src/");
        }
        Assert.DoesNotContain("NOT_A_SETTING", (IReadOnlySet<string>)KnownSettings.Names);
    }

    [Fact]
    public void Every_setting_the_app_reads_is_in_the_README_and_in_env_example()
    {
        var readme = RepoRoot.ReadText("README.md");
        var example = RepoRoot.ReadText(".env.example");
        foreach (var name in KnownSettings.Names.Where(n => n is not ("POD_IP" or "POD_NAME")))
        {
            Assert.True(readme.Contains(name, StringComparison.Ordinal), $"README.md does not document {name}");
            Assert.True(example.Contains(name, StringComparison.Ordinal), $".env.example does not list {name}");
        }
    }

    [Fact]
    public void Every_setting_in_the_README_table_is_one_the_app_reads()
    {
        var readme = RepoRoot.ReadText("README.md");
        var table = readme[readme.IndexOf("| variable | default | meaning |", StringComparison.Ordinal)..];
        var names = table.Split('\n')
            .TakeWhile(line => line.StartsWith('|'))
            .Select(line => line.Split('|')[1])
            .SelectMany(cell => Regex.Matches(cell, "`([A-Z][A-Z0-9_]+)`").Select(match => match.Groups[1].Value))
            .ToList();
        Assert.Contains("GEMINI_API_KEY", names);
        Assert.All(names, name => Assert.True(KnownSettings.Names.Contains(name), $"README.md documents {name}, which nothing in src/ reads"));
    }
}
