namespace GeminiParty.Deploy.Tests;

/// <summary>deploy/local/cluster.sh without starting a cluster (the cluster tests start one for real).</summary>
public sealed class LocalClusterScriptTests
{
    private const string Script = "deploy/local/cluster.sh";

    [Fact]
    public void Parses_as_bash()
    {
        var result = Bash(["-n", Script]);
        Assert.True(result.ExitCode == 0, result.Describe());
    }

    [Fact]
    public void Passes_shellcheck()
    {
        Assert.SkipUnless(ProcessRunner.IsOnPath("shellcheck"), "shellcheck is not installed (apt-get install shellcheck)");
        var result = ProcessRunner.Run("shellcheck", [Script], "apt-get install shellcheck");
        Assert.True(result.ExitCode == 0, result.Describe());
    }

    [Fact]
    public void Explains_itself_and_rejects_unknown_commands()
    {
        var help = Bash([Script, "help"]);
        Assert.Equal(0, help.ExitCode);
        foreach (var word in new[] { " up ", " down ", " status ", "GEMINI_API_KEY", "CLUSTER_DIR" })
        {
            Assert.Contains(word, help.StandardOutput);
        }

        var unknown = Bash([Script, "start"]);
        Assert.Equal(2, unknown.ExitCode);
    }

    [Fact]
    public void Status_lists_every_process_as_stopped_before_up()
    {
        var result = Bash([Script, "status"], IsolatedEnvironment());
        Assert.True(result.ExitCode == 0, result.Describe());
        foreach (var name in new[] { "redis", "silo-1", "silo-2", "frontend-1", "frontend-2" })
        {
            Assert.Matches($@"(?m)^{name}\s+-\s+stopped", result.StandardOutput);
        }
    }

    [Fact]
    public void Up_without_keys_says_what_to_set_and_starts_nothing()
    {
        var environment = IsolatedEnvironment();
        var result = Bash([Script, "up"], environment);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("GEMINI_API_KEY is empty", result.StandardError);
        Assert.False(Directory.Exists(Path.Combine(environment["CLUSTER_DIR"]!, "pids")));
    }

    [Fact]
    public void Down_with_nothing_running_succeeds()
    {
        var result = Bash([Script, "down"], IsolatedEnvironment());
        Assert.True(result.ExitCode == 0, result.Describe());
    }

    /// <summary>A state folder of its own and no keys: nothing a test does can touch a real local cluster.</summary>
    private static Dictionary<string, string?> IsolatedEnvironment() => new()
    {
        ["CLUSTER_DIR"] = Path.Combine(Path.GetTempPath(), $"gemini-party-cluster-test-{Guid.NewGuid():N}"),
        ["CLUSTER_ENV_FILE"] = "/nonexistent/.env",
        ["GEMINI_API_KEY"] = null,
        ["AUTH_TOKEN"] = null,
    };

    private static ProcessResult Bash(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null) =>
        ProcessRunner.Run("bash", arguments, "bash is required", environment);
}
