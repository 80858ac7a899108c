namespace GeminiParty.Cluster.Tests;

/// <summary>A cluster of its own whose frontends read one CLIENTS_FILE (as a Secret mounted on every pod).</summary>
public sealed class ClientsClusterFixture : ClusterFixture
{
    public const string AdminToken = "cluster-admin-token";

    public const string Clients = """
        thirty thirty-secret-token rpm=30
        steady steady-secret-token
        leaving leaving-secret-token
        single single-secret-token concurrency=1
        """;

    public string ClientsPath { get; } = Path.Combine(Path.GetTempPath(), $"gemini-party-cluster-clients-{Guid.NewGuid():N}.txt");

    protected override IReadOnlyDictionary<string, string?> ExtraSettings
    {
        get
        {
            File.WriteAllText(ClientsPath, Clients);
            return new Dictionary<string, string?> { ["CLIENTS_FILE"] = ClientsPath, ["ADMIN_TOKEN"] = AdminToken };
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClientsClusterCollection : ICollectionFixture<ClientsClusterFixture>
{
    public const string Name = "clients cluster";
}
