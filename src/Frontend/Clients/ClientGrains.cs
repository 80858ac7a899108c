using System.Collections.Concurrent;

namespace GeminiParty.Frontend.Clients;

/// <summary>
/// The references to the client grains, one per client name, made once and kept. Orleans' <c>GetGrain</c> reads the
/// grain interface's attributes by reflection on every call; a client with limits costs two grain calls per request,
/// and resolving the reference for each was about 7% of a loaded frontend's CPU (perf, docs/benchmarks.md). The names
/// come from CLIENTS_FILE, so the table stays as small as the file.
/// </summary>
public sealed class ClientGrains(IGrainFactory grains)
{
    private readonly ConcurrentDictionary<string, IClientGrain> _references = new(StringComparer.Ordinal);

    /// <exception cref="ArgumentException">A cluster client that has not connected yet does not know the grain type.</exception>
    public IClientGrain For(string client) =>
        _references.TryGetValue(client, out var reference)
            ? reference
            : _references.GetOrAdd(client, grains.GetGrain<IClientGrain>(client));
}
