namespace GeminiParty;

/// <summary>
/// Usage a frontend collected for one client since its last batch. Numbered per sender so a batch sent again (its
/// answer was lost) is counted once.
/// </summary>
/// <param name="Sender">The sending frontend process; new on every start.</param>
/// <param name="Sequence">Increases by one per batch of that sender to that client.</param>
/// <param name="Models">Usage per model.</param>
[GenerateSerializer, Immutable, Alias("gp.UsageBatch")]
public sealed record UsageBatch(
    [property: Id(0)] Guid Sender,
    [property: Id(1)] long Sequence,
    [property: Id(2)] Dictionary<string, UsageCounts> Models);
