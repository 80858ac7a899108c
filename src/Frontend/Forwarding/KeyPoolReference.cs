namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// The reference to the pool grain (<see cref="GrainIds.DefaultPool"/>) every part of a frontend talks to. Resolved on
/// first use, because a cluster client knows the grain types only once it has connected, and then kept: Orleans'
/// <c>GetGrain</c> reads the interface's attributes by reflection on every call, which a perf profile of a loaded
/// frontend put at about 1% of its CPU when each lease and report batch resolved it anew.
/// </summary>
public sealed class KeyPoolReference(IGrainFactory grains)
{
    private IKeyPoolGrain? _reference;

    /// <exception cref="ArgumentException">A cluster client that has not connected yet does not know the grain type.</exception>
    public IKeyPoolGrain Reference => _reference ??= grains.GetGrain<IKeyPoolGrain>(GrainIds.DefaultPool);
}
