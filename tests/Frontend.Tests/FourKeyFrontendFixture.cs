using GeminiParty.FakeGemini;

namespace GeminiParty.Frontend.Tests;

/// <summary>A gateway with a pool of four keys (the usual three and one more).</summary>
public sealed class FourKeyFrontendFixture : FrontendFixture
{
    public static readonly string[] FourKeys = [.. Keys, "AIzaSyFrontendKey3-ddddddddddddddddddddd"];

    protected override FakeGeminiOptions UpstreamOptions => new() { ValidKeys = FourKeys };

    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["GEMINI_API_KEY"] = string.Join(",", FourKeys),
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
