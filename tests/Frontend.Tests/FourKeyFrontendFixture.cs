using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>
/// A gateway with a pool of four keys (the usual three and one more), and a MAX_AFFINITY_WAIT of 4 s so a test sees a
/// cooling owner both too far off to wait for and close enough, within one cooldown of a few seconds.
/// </summary>
public sealed class FourKeyFrontendFixture : FrontendFixture
{
    public static readonly string[] FourKeys = [.. Keys, "AIzaSyFrontendKey3-ddddddddddddddddddddd"];

    public const int MaxAffinityWaitMs = 4000;

    protected override FakeGeminiOptions UpstreamOptions => new() { ValidKeys = FourKeys };

    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["GEMINI_API_KEY"] = string.Join(",", FourKeys),
        ["MAX_AFFINITY_WAIT"] = MaxAffinityWaitMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Which of <see cref="FourKeys"/> the upstream saw, in order, for one model.</summary>
    public int[] FourKeysSeenFor(string model) =>
        Upstream.Requests.Where(r => r.Model == model).Select(r => Array.IndexOf(FourKeys, r.ApiKey)).ToArray();
}

[CollectionDefinition(Name)]
public sealed class FourKeyCollection : ICollectionFixture<FourKeyFrontendFixture>
{
    public const string Name = "gateway with four keys";
}
