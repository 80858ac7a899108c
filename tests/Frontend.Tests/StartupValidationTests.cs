namespace GeminiParty.Frontend.Tests;

/// <summary>A configuration mistake stops the start with lines that say what to set.</summary>
public sealed class StartupValidationTests
{
    [Fact]
    public async Task Missing_and_bad_settings_are_all_named_and_the_process_exits()
    {
        var (exitCode, stderr) = await RunFrontendAsync(new()
        {
            ["GEMINI_API_KEY"] = "",
            ["AUTH_TOKEN"] = "",
            ["BLACKLIST_TIMEOUT"] = "-5",
            ["HARM_CATEGORY_HARASSMENT"] = "BLOCK_SOMETIMES",
            ["LEASE_BATCH"] = "0",
            ["STREAM_KEEPALIVE"] = "50",
            ["MAX_WAIT"] = "-1",
            ["MAX_WAITING"] = "0",
            ["MODEL_FALLBACKS"] = "gemini-2.5-pro>gemini-2.5-flash,gemini-2.5-flash>gemini-2.5-pro",
            ["CORS_ORIGINS"] = "https://app.example.com/chat",
        });

        Assert.Equal(2, exitCode);
        Assert.Contains("GEMINI_API_KEY is empty", stderr);
        Assert.Contains("AUTH_TOKEN is empty", stderr);
        Assert.Contains("BLACKLIST_TIMEOUT is -5", stderr);
        Assert.Contains("HARM_CATEGORY_HARASSMENT is 'BLOCK_SOMETIMES'", stderr);
        Assert.Contains("LEASE_BATCH is 0", stderr);
        Assert.Contains("STREAM_KEEPALIVE is 50", stderr);
        Assert.Contains("MAX_WAIT is -1", stderr);
        Assert.Contains("MAX_WAITING is 0", stderr);
        Assert.Contains("MODEL_FALLBACKS is not valid: the chains loop back to", stderr);
        Assert.Contains("CORS_ORIGINS is not valid: 'https://app.example.com/chat' is not an origin", stderr);
        Assert.DoesNotContain("   at ", stderr); // no stack trace
    }

    [Fact]
    public async Task A_dotenv_file_in_the_working_directory_is_read_and_real_variables_win()
    {
        var (exitCode, stderr) = await RunFrontendAsync(
            new() { ["AUTH_TOKEN"] = "", ["GEMINI_API_KEY"] = null },
            dotEnv: "GEMINI_API_KEY=AIzaFromDotEnv\nAUTH_TOKEN=from-dotenv\nDEFAULT_MAX_RETRIES=0\n");

        Assert.Equal(2, exitCode);
        Assert.DoesNotContain("GEMINI_API_KEY", stderr); // read from .env
        Assert.Contains("AUTH_TOKEN is empty", stderr); // the environment's empty value beat .env's
        Assert.Contains("DEFAULT_MAX_RETRIES is 0", stderr);
    }

    [Fact]
    public async Task A_bad_clients_file_stops_the_start_naming_the_line_and_never_the_token()
    {
        var path = Path.Combine(Path.GetTempPath(), $"gemini-party-bad-clients-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(path, "# team\nalice alice-token rpm=30\nbob bob-very-secret-token rpm=lots\n", TestContext.Current.CancellationToken);
        try
        {
            var (exitCode, stderr) = await RunFrontendAsync(new() { ["AUTH_TOKEN"] = "", ["CLIENTS_FILE"] = path, ["GEMINI_API_KEY"] = "AIzaStartupKey" });

            Assert.Equal(2, exitCode);
            Assert.Contains($"CLIENTS_FILE {path}: line 3: 'rpm' must be a whole number", stderr);
            Assert.DoesNotContain("AUTH_TOKEN is empty", stderr); // a clients file is enough
            Assert.DoesNotContain("bob-very-secret-token", stderr);
            Assert.DoesNotContain("   at ", stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task<(int ExitCode, string Stderr)> RunFrontendAsync(Dictionary<string, string?> environment, string? dotEnv = null)
    {
        environment["PORT"] = "0";
        await using var frontend = await FrontendProcess.StartAsync(environment, dotEnv);
        var exitCode = await frontend.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (exitCode, frontend.Stderr);
    }
}
