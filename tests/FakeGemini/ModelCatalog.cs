namespace GeminiParty.FakeGemini;

/// <summary>The models the fake lists. Any other name is served too, except names starting with "unknown".</summary>
internal static class ModelCatalog
{
    public static IReadOnlyList<FakeModel> All { get; } =
    [
        new("gemini-2.0-flash", "Gemini 2.0 Flash", "2.0", 1_048_576, 8_192, false),
        new("gemini-2.0-flash-lite", "Gemini 2.0 Flash-Lite", "2.0", 1_048_576, 8_192, false),
        new("gemini-2.5-flash", "Gemini 2.5 Flash", "2.5", 1_048_576, 65_536, false),
        new("gemini-2.5-pro", "Gemini 2.5 Pro", "2.5", 1_048_576, 65_536, false),
        new("gemini-1.5-flash", "Gemini 1.5 Flash", "001", 1_000_000, 8_192, false),
        new("text-embedding-004", "Text Embedding 004", "004", 2_048, 1, true),
        new("gemini-embedding-001", "Gemini Embedding 001", "001", 2_048, 1, true),
    ];

    public static bool IsUnknown(string? model) =>
        string.IsNullOrEmpty(model) || model.StartsWith("unknown", StringComparison.OrdinalIgnoreCase);

    public static FakeModel Describe(string model) =>
        All.FirstOrDefault(m => m.Id == model)
        ?? new FakeModel(model, model, "001", 1_048_576, 8_192, model.Contains("embedding", StringComparison.Ordinal));

    /// <summary>Embedding size Google uses for the model family.</summary>
    public static int EmbeddingDimensions(string? model) =>
        model is not null && model.StartsWith("gemini-embedding", StringComparison.Ordinal) ? 3072 : 768;
}
