namespace GeminiParty.Cluster.Tests;

/// <summary>
/// A cluster whose silos and frontends read their keys from one key file laid out as Kubernetes mounts a Secret
/// (<c>keys -> ..data/keys</c>, <c>..data -> ..v1</c>), so a test can change it the way a <c>kubectl apply</c> does:
/// by swapping the <c>..data</c> symlink. Keys 0 and 1 share a project; key 3 is held back for a reload to add.
/// It also has an admin token, and probes every 2 s (doubling).
/// </summary>
public sealed class KeyFileClusterFixture : ClusterFixture
{
    public const string AdminToken = "cluster-admin-token";
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(2);
    private int _version = 1;

    public string KeyFolder { get; } = Directory.CreateTempSubdirectory("gemini-party-keyfile-").FullName;

    protected override int KeyCount => 4;

    protected override IReadOnlyDictionary<string, string?> ExtraSettings
    {
        get
        {
            WriteKeyFile(InitialFile());
            return new Dictionary<string, string?>
            {
                ["GEMINI_API_KEY"] = "",
                ["GEMINI_API_KEY_FILE"] = Path.Combine(KeyFolder, "keys"),
                ["KEY_FILE_POLL_INTERVAL"] = "500",
                ["KEY_CHECK_INTERVAL"] = "200",
                ["KEY_PROBE_INTERVAL"] = ((long)ProbeInterval.TotalMilliseconds).ToString(),
                ["ADMIN_TOKEN"] = AdminToken,
            };
        }
    }

    public string InitialFile() =>
        $"""
        # the cluster's keys
        {Keys[0]} project=shared
        {Keys[1]} project=shared
        {Keys[2]} note=solo
        """;

    /// <summary>Writes a new version of the file into a folder of its own and swaps the <c>..data</c> symlink to it.</summary>
    public void WriteKeyFile(string text)
    {
        var version = Path.Combine(KeyFolder, $"..v{_version++}");
        Directory.CreateDirectory(version);
        File.WriteAllText(Path.Combine(version, "keys"), text);
        var data = Path.Combine(KeyFolder, "..data");
        var next = Path.Combine(KeyFolder, "..data_tmp");
        File.CreateSymbolicLink(next, version);
        // rename over the old link: atomic, as the kubelet does it (File.Move refuses a link to a folder)
        using (var mv = System.Diagnostics.Process.Start("mv", ["-Tf", next, data]))
        {
            mv.WaitForExit();
            if (mv.ExitCode != 0)
            {
                throw new IOException($"mv -T {next} {data} failed with {mv.ExitCode}");
            }
        }
        var keys = Path.Combine(KeyFolder, "keys");
        if (!File.Exists(keys))
        {
            File.CreateSymbolicLink(keys, Path.Combine("..data", "keys"));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class KeyFileCollection : ICollectionFixture<KeyFileClusterFixture>
{
    public const string Name = "key file";
}
