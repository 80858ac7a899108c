using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>Roughly four characters a token, as Google's own rule of thumb.</summary>
internal static class TokenEstimator
{
    public static int ForText(string text) => Math.Max(1, (text.Length + 3) / 4);

    /// <summary>Counts the characters of every prompt string in a native or OpenAI request body.</summary>
    public static int ForRequest(JsonElement root) => Math.Max(1, (PromptChars(root, inPromptField: false) + 3) / 4);

    private static int PromptChars(JsonElement element, bool inPromptField) => element.ValueKind switch
    {
        JsonValueKind.String when inPromptField => element.GetString()!.Length,
        JsonValueKind.Array => element.EnumerateArray().Sum(item => PromptChars(item, inPromptField)),
        JsonValueKind.Object => element.EnumerateObject().Sum(property =>
            PromptChars(property.Value, inPromptField || property.NameEquals("text") || property.NameEquals("content") || property.NameEquals("input"))),
        _ => 0,
    };
}
