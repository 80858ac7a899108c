namespace GeminiParty.FakeGemini;

internal readonly record struct TokenUsage(int Prompt, int Completion)
{
    public int Total => Prompt + Completion;
}
