namespace GeminiParty;

/// <summary>
/// Outcome reports a frontend sends to the pool in one call. A frontend numbers its batches and sends the next only
/// once the pool has acknowledged the last, so the pool applies each batch once even when a call whose answer was
/// lost is sent again.
/// </summary>
/// <param name="Sender">Identifies the sending frontend process; new on every start.</param>
/// <param name="Sequence">The batch's number, from 1, increasing by one per batch of that sender.</param>
/// <param name="Reports">The outcomes, oldest first.</param>
/// <param name="Waits">Affinity waits that started since the last batch: they ride with the outcomes, so they are counted
/// once like them and cost no call of their own.</param>
[GenerateSerializer, Immutable, Alias("gp.ReportBatch")]
public sealed record ReportBatch(
    [property: Id(0)] Guid Sender,
    [property: Id(1)] long Sequence,
    [property: Id(2)] AttemptReport[] Reports,
    [property: Id(3)] AffinityWait[]? Waits = null);
