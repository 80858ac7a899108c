namespace GeminiParty;

/// <summary>
/// Tokens one successful answer used, as upstream reported them: <c>usageMetadata</c> of native answers
/// (promptTokenCount, candidatesTokenCount, totalTokenCount) or <c>usage</c> of OpenAI-compatible ones
/// (prompt_tokens, completion_tokens, total_tokens). Total may exceed prompt + candidates (thinking, tool use).
/// </summary>
[GenerateSerializer, Immutable, Alias("gp.TokenCounts")]
public readonly record struct TokenCounts(
    [property: Id(0)] long Prompt,
    [property: Id(1)] long Candidates,
    [property: Id(2)] long Total);
