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
        });

        Assert.Equal(2, exitCode);
        Assert.Contains("GEMINI_API_KEY is empty", stderr);
        Assert.Contains("AUTH_TOKEN is empty", stderr);
        Assert.Contains("BLACKLIST_TIMEOUT is -5", stderr);
        Assert.Contains("HARM_CATEGORY_HARASSMENT is 'BLOCK_SOMETIMES'", stderr);
        Assert.Contains("LEASE_BATCH is 0", stderr);
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

    private static async Task<(int ExitCode, string Stderr)> RunFrontendAsync(Dictionary<string, string?> environment, string? dotEnv = null)
    {
        environment["PORT"] = "0";
        await using var frontend = await FrontendProcess.StartAsync(environment, dotEnv);
        var exitCode = await frontend.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (exitCode, frontend.Stderr);
    }
}
