namespace GeminiParty.FakeGemini;

/// <summary>A model the fake advertises. <paramref name="Id"/> has no "models/" prefix.</summary>
internal sealed record FakeModel(string Id, string DisplayName, string Version, int InputTokenLimit, int OutputTokenLimit, bool IsEmbedding);
