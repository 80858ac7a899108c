namespace GeminiParty.Tests;

// Linked into each test project that reads repository files (see their csproj), rather than copied.

internal static class RepoRoot
{
    /// <summary>The repository root: the nearest folder above the test binaries holding gemini-party.slnx or global.json.</summary>
    public static string Path { get; } = Find();

    public static string File(string relative) => System.IO.Path.Combine(Path, relative);

    public static string ReadText(string relative)
    {
        var path = File(relative);
        Assert.True(System.IO.File.Exists(path), $"{relative} is missing (looked for {path})");
        return System.IO.File.ReadAllText(path);
    }

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "gemini-party.slnx"))
                || System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "global.json")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"No folder holding gemini-party.slnx or global.json above {AppContext.BaseDirectory}");
    }
}
