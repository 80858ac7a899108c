namespace GeminiParty.Deploy.Tests;

/// <summary>What the deploy files must agree with: the app's default ports and the image's layout.</summary>
internal static class AppDefaults
{
    public const int FrontendPort = 3000;
    public const int SiloHttpPort = 8080;
    public const int SiloPort = 11111;
    public const int GatewayPort = 30000;
    public const int RedisPort = 6379;

    /// <summary>Silo shutdown flushes counters in a few seconds; the frontend drains streams for up to ~30 s.</summary>
    public const int MinTerminationGraceSeconds = 30;

    public const string Image = "ghcr.io/gemini-party/gemini-party:latest";
    public const string FrontendDll = "/app/frontend/GeminiParty.Frontend.dll";
    public const string SiloDll = "/app/silo/GeminiParty.Silo.dll";
    public const string HealthcheckDll = "/app/healthcheck/GeminiParty.Healthcheck.dll";
    public const string SecretName = "gemini-party-secrets";
}

/// <summary>Which gemini-party process a container runs, told by the assembly in its command line.</summary>
public enum AppRole
{
    None,
    Frontend,
    Silo,
}

internal static class AppRoles
{
    /// <summary>The role of an app container; no command means the image's default, the frontend.</summary>
    public static AppRole Of(IEnumerable<string> commandLine)
    {
        var words = commandLine.ToList();
        if (words.Any(w => w.Contains("GeminiParty.Silo.dll", StringComparison.Ordinal)))
        {
            return AppRole.Silo;
        }

        return words.Count == 0 || words.Any(w => w.Contains("GeminiParty.Frontend.dll", StringComparison.Ordinal))
            ? AppRole.Frontend
            : AppRole.None;
    }
}
