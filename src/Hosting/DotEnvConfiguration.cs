using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Memory;

namespace GeminiParty.Hosting;

/// <summary>Reads a <c>.env</c> file from the working directory, as the original did. Real environment variables win.</summary>
public static class DotEnvConfiguration
{
    public static IConfigurationManager AddDotEnvFile(this IConfigurationManager configuration, string path = ".env")
    {
        if (!File.Exists(path))
        {
            return configuration;
        }
        var source = new MemoryConfigurationSource { InitialData = Parse(File.ReadAllLines(path)) };
        var sources = configuration.Sources;
        var environment = sources.ToList().FindLastIndex(s => s is EnvironmentVariablesConfigurationSource { Prefix: null or "" });
        sources.Insert(environment < 0 ? sources.Count : environment, source);
        return configuration;
    }

    internal static Dictionary<string, string?> Parse(IEnumerable<string> lines)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line[7..].TrimStart();
            }
            var equals = line.IndexOf('=');
            if (equals <= 0)
            {
                continue;
            }
            var value = line[(equals + 1)..].Trim();
            if (value.Length >= 2 && (value[0] is '"' or '\'') && value[^1] == value[0])
            {
                value = value[1..^1];
            }
            values[line[..equals].Trim()] = value;
        }
        return values;
    }
}
