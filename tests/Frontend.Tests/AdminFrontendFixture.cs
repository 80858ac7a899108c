namespace GeminiParty.Frontend.Tests;

/// <summary>A gateway with ADMIN_TOKEN, API_PREFIX and a key file: key 1 has weight 2, key 2 is paid.</summary>
public sealed class AdminFrontendFixture : FrontendFixture
{
    public const string AdminToken = "admin-token-for-tests";

    private readonly string _keyFile = WriteKeyFile();

    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["ADMIN_TOKEN"] = AdminToken,
        ["API_PREFIX"] = "hf",
        ["GEMINI_API_KEY_FILE"] = _keyFile,
    };

    private static string WriteKeyFile()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("admin-keys-").FullName, "keys");
        File.WriteAllText(path, $"# keys 0 (from GEMINI_API_KEY) and 1 are free, 1 with twice the turns; 2 is overflow\n{Keys[1]} weight=2\n{Keys[2]} project=team-b tier=paid weight=2 note=spare\n");
        return path;
    }
}
