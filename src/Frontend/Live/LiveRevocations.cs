using System.Collections.Concurrent;
using GeminiParty.Frontend.Clients;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// Ends the Live sessions a change of CLIENTS_FILE takes away: their client removed or its token changed, set to
/// <c>live=false</c>, or no longer allowed the session's model. A revoked token's HTTP requests end by themselves
/// within seconds; a Live session may last for hours, and would otherwise outlive the revocation.
/// </summary>
public sealed class LiveRevocations : IDisposable
{
    private readonly ClientsFile _file;
    private readonly ConcurrentDictionary<CancellationTokenSource, (ClientPolicy Client, string Model)> _sessions = new();

    public LiveRevocations(ClientsFile file)
    {
        _file = file;
        file.Changed += Revoke;
    }

    /// <summary>
    /// Watches a session of <paramref name="client"/> (null for AUTH_TOKEN clients, whose tokens are not reloaded):
    /// the source's token is cancelled when the session must end. Give it back with <see cref="Forget"/>.
    /// </summary>
    public CancellationTokenSource? Watch(ClientPolicy client, string model)
    {
        if (!client.IsNamed)
        {
            return null;
        }
        var source = new CancellationTokenSource();
        _sessions[source] = (client, model);
        if (!Allows(_file.Current, client, model))
        {
            source.Cancel(); // the file changed while the session opened
        }
        return source;
    }

    public void Forget(CancellationTokenSource? source)
    {
        if (source is not null && _sessions.TryRemove(source, out _))
        {
            source.Dispose();
        }
    }

    public void Dispose() => _file.Changed -= Revoke;

    private void Revoke(ClientList clients)
    {
        foreach (var (source, session) in _sessions)
        {
            if (Allows(clients, session.Client, session.Model))
            {
                continue;
            }
            try
            {
                source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // the session ended meanwhile
            }
        }
    }

    private static bool Allows(ClientList clients, ClientPolicy client, string model)
    {
        foreach (var current in clients.Clients)
        {
            if (current.Name == client.Name)
            {
                return current.TokenDigest.AsSpan().SequenceEqual(client.TokenDigest) && current.AllowsLiveSessions() && current.AllowsModel(model);
            }
        }
        return false;
    }
}
