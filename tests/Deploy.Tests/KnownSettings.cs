using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace GeminiParty.Deploy.Tests;

/// <summary>
/// The environment variables gemini-party reads, taken from the source itself: every
/// <c>[ConfigurationKeyName("...")]</c> under src/. A deploy file that sets a name not found there sets something nobody
/// reads.
/// </summary>
internal static partial class KnownSettings
{
    /// <summary>Secrets: only ever from a Kubernetes Secret or the .env file, never a literal in a deploy file.</summary>
    public static readonly IReadOnlyList<string> Secrets = ["GEMINI_API_KEY", "AUTH_TOKEN", "ADMIN_TOKEN"];

    public static readonly FrozenSet<string> Names = Directory
        .EnumerateFiles(RepoRoot.File("src"), "*.cs", SearchOption.AllDirectories)
        .Where(path => !path.Contains($"{System.IO.Path.DirectorySeparatorChar}obj{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal))
        .SelectMany(path => KeyName().Matches(File.ReadAllText(path)).Select(match => match.Groups[1].Value))
        .ToFrozenSet(StringComparer.Ordinal);

    /// <summary>A name the app (or the .NET runtime and ASP.NET Core underneath it) reads.</summary>
    public static bool IsKnown(string name) =>
        Names.Contains(name)
        || name.StartsWith("DOTNET_", StringComparison.Ordinal)
        || name.StartsWith("ASPNETCORE_", StringComparison.Ordinal);

    [GeneratedRegex("""ConfigurationKeyName\("([A-Z0-9_]+)"\)""")]
    private static partial Regex KeyName();
}
