using System.Text.RegularExpressions;

namespace GeminiParty.Deploy.Tests;

/// <summary>The Dockerfile read as instructions (continuation lines joined), since no Docker engine runs here.</summary>
public sealed class DockerfileTests
{
    private readonly IReadOnlyList<(string Keyword, string Arguments)> _instructions = Parse(RepoRoot.ReadText("Dockerfile"));

    private IReadOnlyList<IReadOnlyList<(string Keyword, string Arguments)>> Stages =>
        _instructions.Aggregate(new List<List<(string Keyword, string Arguments)>>(), (stages, instruction) =>
        {
            if (instruction.Keyword == "FROM")
            {
                stages.Add([]);
            }

            if (stages.Count > 0)
            {
                stages[^1].Add(instruction);
            }

            return stages;
        });

    [Fact]
    public void Builds_with_the_sdk_and_runs_on_the_aspnet_runtime()
    {
        Assert.True(Stages.Count >= 2, "the Dockerfile must be multi-stage");
        Assert.Contains("mcr.microsoft.com/dotnet/sdk:", Stages[0][0].Arguments);
        Assert.Contains("mcr.microsoft.com/dotnet/aspnet:", Stages[^1][0].Arguments);
    }

    [Fact]
    public void Runs_as_a_non_root_user()
    {
        var user = Stages[^1].LastOrDefault(i => i.Keyword == "USER").Arguments;
        Assert.False(string.IsNullOrWhiteSpace(user), "the final stage sets no USER, so it runs as root");
        Assert.DoesNotMatch(@"^(root|0)(:|$)", user.Trim());
    }

    [Fact]
    public void Restores_from_the_shared_props_and_every_project_before_copying_the_sources()
    {
        var firstRestore = IndexOf(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet restore", StringComparison.Ordinal));
        var copiedBefore = _instructions.Take(firstRestore).Where(i => i.Keyword == "COPY").Select(i => i.Arguments).ToList();
        foreach (var file in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.True(copiedBefore.Any(c => c.Split(' ').Contains(file)), $"{file} is not copied before `dotnet restore`");
        }

        // A project added under src/ must be copied for restore too, or the image build breaks.
        var projects = Directory.GetFiles(Path.Combine(RepoRoot.Path, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(RepoRoot.Path, Path.GetDirectoryName(p)!).Replace('\\', '/'));
        foreach (var project in projects)
        {
            Assert.True(copiedBefore.Any(c => c.StartsWith($"{project}/", StringComparison.Ordinal)),
                $"{project} is not copied before `dotnet restore`");
        }
    }

    [Theory]
    [InlineData("src/Frontend", "/app/frontend")]
    [InlineData("src/Silo", "/app/silo")]
    [InlineData("deploy/docker/healthcheck", "/app/healthcheck")]
    public void Publishes_each_process_to_its_folder(string project, string folder)
    {
        Assert.True(Directory.Exists(Path.Combine(RepoRoot.Path, project)), $"{project} does not exist");
        Assert.Contains(Stages[0], i => i.Keyword == "RUN"
                                        && Regex.IsMatch(i.Arguments, $@"publish\b.*\s{Regex.Escape(project)}\s+(-o\s+)?{Regex.Escape(folder)}\b"));
        Assert.Contains(Stages[^1], i => i.Keyword == "COPY" && i.Arguments.Contains("--from=", StringComparison.Ordinal)
                                                            && (i.Arguments.EndsWith(" /app", StringComparison.Ordinal)
                                                                || i.Arguments.Contains(folder, StringComparison.Ordinal)));
    }

    [Fact]
    public void Starts_the_frontend_by_default_and_exposes_every_port()
    {
        var command = Stages[^1].Last(i => i.Keyword == "CMD").Arguments;
        Assert.Contains(AppDefaults.FrontendDll, command);
        var exposed = Stages[^1].Where(i => i.Keyword == "EXPOSE")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        foreach (var port in new[] { AppDefaults.FrontendPort, AppDefaults.SiloHttpPort, AppDefaults.SiloPort, AppDefaults.GatewayPort })
        {
            Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), exposed);
        }
    }

    [Fact]
    public void Published_assembly_names_are_the_ones_the_deploy_files_start()
    {
        foreach (var (project, assembly) in new[] { ("src/Frontend", "GeminiParty.Frontend"), ("src/Silo", "GeminiParty.Silo") })
        {
            var csproj = Directory.GetFiles(Path.Combine(RepoRoot.Path, project), "*.csproj").SingleOrDefault();
            if (csproj is null)
            {
                continue; // Not written yet; the publish test above already requires the folder.
            }

            Assert.Contains($"<AssemblyName>{assembly}</AssemblyName>", File.ReadAllText(csproj));
        }
    }

    [Fact]
    public void Dockerignore_keeps_build_output_and_secrets_out_of_the_context()
    {
        var lines = RepoRoot.ReadText(".dockerignore").Split('\n').Select(l => l.Trim().TrimStart('*', '/').TrimEnd('/')).ToHashSet();
        foreach (var entry in new[] { "bin", "obj", "node_modules", ".git", "artifacts", ".env" })
        {
            Assert.True(lines.Contains(entry), $".dockerignore does not exclude {entry}");
        }
    }

    private int IndexOf(Func<(string Keyword, string Arguments), bool> predicate)
    {
        var index = _instructions.ToList().FindIndex(i => predicate(i));
        Assert.True(index >= 0, "instruction not found");
        return index;
    }

    private static List<(string Keyword, string Arguments)> Parse(string dockerfile)
    {
        var logical = Regex.Replace(dockerfile, @"\\\r?\n", " ");
        return logical.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries))
            .Select(parts => (parts[0].ToUpperInvariant(), parts.Length > 1 ? Regex.Replace(parts[1], @"\s+", " ") : ""))
            .ToList();
    }
}
