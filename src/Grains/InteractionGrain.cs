using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GeminiParty;

/// <summary>
/// Remembers which key made one interaction (the Interactions API): a <see cref="ResourceGrain"/> whose record lives in
/// the <see cref="StorageNames.Interactions"/> storage. Interactions come one per turn, so their records are kept apart
/// from the other resources': in a compact format, and expired by Redis itself a little after their binding would be,
/// since most are never named again once a conversation ends.
/// </summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed class InteractionGrain(
    [PersistentState("interaction", StorageNames.Interactions)] IPersistentState<ResourceRecord> state,
    [FromKeyedServices(ServiceKeys.PoolClock)] TimeProvider time,
    ILogger<ResourceGrain> logger) : ResourceGrain(state, time, logger);
