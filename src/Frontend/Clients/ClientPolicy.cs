namespace GeminiParty.Frontend.Clients;

/// <summary>
/// Who a request comes from and what it may do: a named client of CLIENTS_FILE with its limits, model allowlist and
/// Live API permission, or <see cref="Unnamed"/> for the tokens of AUTH_TOKEN (no limits). The client token gate puts
/// it on the request (<see cref="Of"/>); the token itself is kept only as its SHA-256 digest.
/// </summary>
public sealed class ClientPolicy
{
    /// <summary>The name AUTH_TOKEN clients are counted under; a clients file name cannot start with '_'.</summary>
    public const string UnnamedName = "_auth_token";

    public static readonly ClientPolicy Unnamed = new(UnnamedName, [], ClientLimits.None, ModelAllowlist.Any, live: true);

    public ClientPolicy(string name, byte[] tokenDigest, ClientLimits limits, ModelAllowlist models, bool live)
    {
        Name = name;
        TokenDigest = tokenDigest;
        Limits = limits;
        Models = models;
        Live = live;
    }

    /// <summary>The client's name: the id of its grain, its <c>client</c> label in /metrics and its name in logs.</summary>
    public string Name { get; }

    public bool IsNamed => !ReferenceEquals(this, Unnamed);

    /// <summary>SHA-256 of the token; empty for <see cref="Unnamed"/>.</summary>
    internal byte[] TokenDigest { get; }

    public ClientLimits Limits { get; }

    public ModelAllowlist Models { get; }

    /// <summary><c>live=false</c> in the clients file turns this off.</summary>
    public bool Live { get; }

    /// <summary>Whether the client may call <paramref name="model"/>; listing models is always allowed.</summary>
    public bool AllowsModel(string model) => Models.Allows(model);

    /// <summary>Whether the client may open Live API sessions (the check the Live route makes before it accepts one).</summary>
    public bool AllowsLiveSessions() => Live;

    /// <summary>The client the token gate identified for this request; <see cref="Unnamed"/> on routes without the gate.</summary>
    public static ClientPolicy Of(HttpContext context) => context.Features.Get<ClientPolicy>() ?? Unnamed;
}
