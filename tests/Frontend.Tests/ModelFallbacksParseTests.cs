using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Tests;

/// <summary>MODEL_FALLBACKS as written in the issue parses; each mistake is named so an operator can fix it.</summary>
public sealed class ModelFallbacksParseTests
{
    [Fact]
    public void Chains_by_commas_and_models_by_arrows_give_each_model_its_next()
    {
        var next = ModelFallbacks.Parse(" gemini-2.5-pro > gemini-2.5-flash>gemini-2.5-flash-lite , models/gemini-2.0-flash>gemini-2.0-flash-lite,", out var error);

        Assert.Null(error);
        Assert.Equal(new Dictionary<string, string>
        {
            ["gemini-2.5-pro"] = "gemini-2.5-flash",
            ["gemini-2.5-flash"] = "gemini-2.5-flash-lite",
            ["gemini-2.0-flash"] = "gemini-2.0-flash-lite",
        }, next);
        Assert.Empty(ModelFallbacks.Parse(null, out _)!);
    }

    [Theory]
    [InlineData("gemini-2.5-pro", "names one model")]
    [InlineData("gemini-2.5-pro>gemini 2.5", "is not a model name")]
    [InlineData("a-model>b-model,a-model>c-model", "falls back to both 'b-model' and 'c-model'")]
    [InlineData("a-model>b-model>c-model,c-model>a-model", "loop back")]
    public void A_mistake_is_refused_with_what_to_fix(string value, string message)
    {
        Assert.Null(ModelFallbacks.Parse(value, out var error));
        Assert.Contains(message, error);
    }
}
