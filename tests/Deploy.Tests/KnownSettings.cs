using System.Collections.Frozen;

namespace GeminiParty.Deploy.Tests;

/// <summary>
/// The environment variables gemini-party reads. This list MUST match the app's configuration (src/Frontend,
/// src/Silo): a deploy file that sets a name not listed here sets something nobody reads.
/// </summary>
internal static class KnownSettings
{
    /// <summary>Secrets: only ever from a Kubernetes Secret or the .env file, never a literal in a deploy file.</summary>
    public static readonly IReadOnlyList<string> Secrets = ["GEMINI_API_KEY", "AUTH_TOKEN"];

    public static readonly FrozenSet<string> Names = new[]
    {
        "GEMINI_API_KEY",
        "AUTH_TOKEN",
        "REDIS_CONNECTION_STRING",
        "ORLEANS_CLUSTER_ID",
        "ORLEANS_SERVICE_ID",
        "ORLEANS_SILO_PORT",
        "ORLEANS_GATEWAY_PORT",
        "ORLEANS_ADVERTISED_IP",
        "POD_IP",
        "POD_NAME",
        "PORT",
        "API_PREFIX",
        "GEMINI_BASE_URL",
        "ROTATION_RESET_INTERVAL",
        "BLACKLIST_TIMEOUT",
        "DEFAULT_MAX_RETRIES",
        "MAX_REQUEST_BODY_MB",
        "UPSTREAM_TIMEOUT",
        "STREAM_IDLE_TIMEOUT",
        "LOG_FORMAT",
        "HARM_CATEGORY_HARASSMENT",
        "HARM_CATEGORY_HATE_SPEECH",
        "HARM_CATEGORY_SEXUALLY_EXPLICIT",
        "HARM_CATEGORY_DANGEROUS_CONTENT",
        "HARM_CATEGORY_CIVIC_INTEGRITY",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>A name the app (or the .NET runtime and ASP.NET Core underneath it) reads.</summary>
    public static bool IsKnown(string name) =>
        Names.Contains(name)
        || name.StartsWith("DOTNET_", StringComparison.Ordinal)
        || name.StartsWith("ASPNETCORE_", StringComparison.Ordinal);
}
