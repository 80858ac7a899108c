namespace GeminiParty.Frontend.Tests;

/// <summary>A key file that cannot be read stops the start, naming its line and never a key.</summary>
public sealed class KeyFileStartupTests
{
    [Fact]
    public async Task A_bad_key_file_stops_the_start_with_its_line_and_never_the_key()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("bad-keys-").FullName, "keys");
        await File.WriteAllTextAsync(path, "AIzaSyGoodKey-0123456789abcdefghijklmnopq\nAIzaSySecretKey-0123456789abcdefghijklmno tier=gold\n", TestContext.Current.CancellationToken);
        await using var frontend = await FrontendProcess.StartAsync(new()
        {
            ["PORT"] = "0",
            ["GEMINI_API_KEY"] = null,
            ["GEMINI_API_KEY_FILE"] = path,
            ["AUTH_TOKEN"] = "t",
        }, null);

        Assert.Equal(2, await frontend.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("line 2: 'tier' must be one of free, paid", frontend.Stderr);
        Assert.DoesNotContain("AIzaSySecretKey", frontend.Stderr + frontend.Stdout);
    }
}
