using System.Security.Cryptography;
using System.Text;
using GeminiParty.Hosting.ListFiles;

namespace GeminiParty.Frontend.Clients;

/// <summary>
/// The clients of CLIENTS_FILE: one per line, <c>name token [rpm=N] [rpd=N] [tpd=N] [concurrency=N] [models=a,b-*]
/// [live=false]</c>, where the token may be given as <c>sha256:&lt;hex&gt;</c> so the file need not hold the secret.
/// </summary>
public sealed class ClientList
{
    public static readonly ClientList Empty = new([]);

    /// <summary>Big enough for any team; the per-minute window keeps one timestamp per admitted request.</summary>
    public const int MaxRequestsPerMinute = 100_000;

    public static readonly ListFileSchema Schema = new(
        ["name", "token"],
        new HashSet<string>(StringComparer.Ordinal) { "rpm", "rpd", "tpd", "concurrency", "models", "live" });

    private ClientList(ClientPolicy[] clients) => Clients = clients;

    public IReadOnlyList<ClientPolicy> Clients { get; }

    /// <exception cref="ListFileFormatException">a line is wrong; the message names the line, never a token.</exception>
    public static ClientList Parse(string text)
    {
        var clients = new List<ClientPolicy>();
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var digests = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in ListFile.Parse(text, Schema))
        {
            var name = entry.Fields[0];
            if (!IsName(name))
            {
                throw new ListFileFormatException(entry.Line, "the name must be 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit");
            }
            if (!names.TryAdd(name, entry.Line))
            {
                throw new ListFileFormatException(entry.Line, $"client '{name}' is already on line {names[name]}");
            }
            var digest = Digest(entry);
            if (!digests.TryAdd(Convert.ToHexString(digest), entry.Line))
            {
                throw new ListFileFormatException(entry.Line, $"the token is already given to the client on line {digests[Convert.ToHexString(digest)]}");
            }
            var limits = new ClientLimits(
                entry.Long("rpm", 1, MaxRequestsPerMinute) is { } rpm ? (int)rpm : null,
                entry.Long("rpd", 1, int.MaxValue) is { } rpd ? (int)rpd : null,
                entry.Long("tpd", 1, long.MaxValue),
                entry.Long("concurrency", 1, 100_000) is { } concurrency ? (int)concurrency : null);
            var models = entry.Text("models") is { } allowlist
                ? ModelAllowlist.Parse(allowlist) ?? throw new ListFileFormatException(entry.Line,
                    "'models' must be model names or globs separated by commas (letters, digits, '.', '-', '_', '*')")
                : ModelAllowlist.Any;
            clients.Add(new ClientPolicy(name, digest, limits.Any ? limits : ClientLimits.None, models, entry.Boolean("live", true)));
        }
        return new ClientList([.. clients]);
    }

    private static byte[] Digest(ListFileEntry entry)
    {
        var token = entry.Fields[1];
        if (!token.StartsWith("sha256:", StringComparison.Ordinal))
        {
            return SHA256.HashData(Encoding.UTF8.GetBytes(token));
        }
        var hex = token.AsSpan(7);
        try
        {
            return hex.Length == 64 ? Convert.FromHexString(hex) : throw new FormatException();
        }
        catch (FormatException)
        {
            throw new ListFileFormatException(entry.Line, "after 'sha256:' must come the token's SHA-256 as 64 hex digits (sha256sum of the token without a newline)");
        }
    }

    private static bool IsName(string name) =>
        name.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
}
