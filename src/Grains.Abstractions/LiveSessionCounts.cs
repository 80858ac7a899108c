namespace GeminiParty;

/// <summary>
/// The Live API sessions one frontend has open now, per key. Each report replaces the sender's previous one, so a lost
/// or repeated report corrects itself with the next; the pool forgets a sender that stops reporting (a frontend that
/// crashed) after <see cref="IKeyPoolGrain.LiveSessionsLifetime"/>.
/// </summary>
/// <param name="Sender">Identifies the reporting frontend process; new on every start.</param>
/// <param name="Sequence">Increases with every report of that sender: an older report arriving late is ignored.</param>
/// <param name="Open">The keys with at least one open session, and how many each has.</param>
[GenerateSerializer, Immutable, Alias("gp.LiveSessionCounts")]
public sealed record LiveSessionCounts(
    [property: Id(0)] Guid Sender,
    [property: Id(1)] long Sequence,
    [property: Id(2)] LiveKeySessions[] Open);

/// <summary>How many Live API sessions one frontend has open on one key.</summary>
[GenerateSerializer, Immutable, Alias("gp.LiveKeySessions")]
public sealed record LiveKeySessions([property: Id(0)] KeyAlias Key, [property: Id(1)] int Sessions);
