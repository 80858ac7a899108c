namespace GeminiParty;

/// <summary>
/// A frontend that holds leased keys ahead of use. The pool tells it when one of them must not be used any more, so
/// a rate limit met through one frontend keeps every other frontend off the key too.
/// </summary>
[Alias("gp.IKeyPoolObserver")]
public interface IKeyPoolObserver : IGrainObserver
{
    /// <summary>Drops the key from the keys this frontend holds; the pool waits for the answer before the failure that
    /// caused it is acknowledged, so a client that saw one frontend's retry cannot reach a frontend still holding the key.</summary>
    [Alias("Withdrawn"), ResponseTimeout("00:00:02")]
    Task KeyWithdrawnAsync(KeyWithdrawal withdrawal);

    /// <summary>
    /// The pool is about to move: its silo has started shutting down. Renew the subscription often until it reaches the
    /// next activation, which starts with no subscribers, instead of at the next renewal, so no withdrawal in between is
    /// missed. Answered, not one-way: the stopping silo goes on with its shutdown once every frontend heard it (or after
    /// a second), so the announcement cannot be lost with the silo's connections.
    /// </summary>
    [Alias("Moving"), ResponseTimeout("00:00:02")]
    Task PoolMovingAsync();
}

/// <summary>A key taken out of rotation: for one model (a cooldown) or, with no model, for all of them (invalid).</summary>
/// <param name="Key">The key.</param>
/// <param name="Model">The model it cools for; null when the key is invalid.</param>
/// <param name="Version">The pool's withdrawal count after this one (see <see cref="KeyLease.Version"/>).</param>
[GenerateSerializer, Immutable, Alias("gp.KeyWithdrawal")]
public sealed record KeyWithdrawal(
    [property: Id(0)] KeyAlias Key,
    [property: Id(1)] string? Model,
    [property: Id(2)] long Version);
