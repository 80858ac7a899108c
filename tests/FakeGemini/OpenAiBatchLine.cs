namespace GeminiParty.FakeGemini;

/// <summary>One request of an OpenAI batch's JSONL input: what its answer line needs.</summary>
/// <param name="Model">The body's model without any "models/" prefix.</param>
/// <param name="PromptTokens">Estimated from the body's messages, as the chat endpoint estimates them.</param>
internal sealed record OpenAiBatchLine(string CustomId, string Model, int PromptTokens);
