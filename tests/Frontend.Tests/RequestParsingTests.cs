using System.Text;
using System.Text.Json.Nodes;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Tests;

/// <summary>The only places the gateway reads a body: the OpenAI model field and the safety-settings merge.</summary>
public sealed class RequestParsingTests
{
    [Theory]
    [InlineData("""{"model":"gemini-2.0-flash","messages":[]}""", "gemini-2.0-flash", false)]
    [InlineData("""{"messages":[{"role":"user","content":"{\"model\":\"fake\"}"}],"stream":true,"model":"models/gemini-2.5-pro"}""", "models/gemini-2.5-pro", true)]
    [InlineData("""{"nested":{"model":"not-this"},"model":"this"}""", "this", false)]
    [InlineData("""{"messages":[]}""", null, false)]
    public void The_model_and_stream_flag_are_read_without_touching_the_rest(string body, string? model, bool stream)
    {
        var facts = RequestFactsReader.Read(Encoding.UTF8.GetBytes(body));
        Assert.Equal(model, facts.Model);
        Assert.Equal(stream, facts.Stream);
    }

    [Fact]
    public void An_interactions_agent_predecessor_and_store_flag_are_read_from_its_top_level_only()
    {
        var facts = RequestFactsReader.Read(Encoding.UTF8.GetBytes(
            """{"input":[{"type":"text","text":"{\"agent\":\"no\"}"}],"agent":"deep-research-pro-preview-12-2025","previous_interaction_id":"v1_abc","store":false,"background":true,"nested":{"previous_interaction_id":"not-this"}}"""));
        Assert.Equal(new RequestFactsReader.RequestFacts(null, false, "deep-research-pro-preview-12-2025", "v1_abc", Store: false), facts);
        Assert.True(RequestFactsReader.Read(Encoding.UTF8.GetBytes("""{"model":"gemini-2.5-flash","input":"hi"}""")).Store);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("""{"model":"x",""")]
    [InlineData("""{"model":"x"} trailing""")]
    [InlineData("""{"model":"x"}{"model":"y"}""")]
    [InlineData("not json")]
    public void Malformed_bodies_are_reported_not_forwarded(string body) =>
        Assert.Throws<InvalidRequestBodyException>(() => RequestFactsReader.Read(Encoding.UTF8.GetBytes(body)));

    /// <summary>Valid JSON syntax that .NET refuses only when it reads the value: a string that is not UTF-8.</summary>
    public static TheoryData<byte[]> RoutedFieldsNotUtf8 => new()
    {
        NotUtf8("""{"model":" """, """ "}"""),
        NotUtf8("""{"agent":" """, """ "}"""),
        NotUtf8("""{"model":"m","previous_interaction_id":" """, """ "}"""),
    };

    [Theory]
    [MemberData(nameof(RoutedFieldsNotUtf8))]
    public void A_routed_field_that_is_not_UTF8_is_reported_not_thrown(byte[] body) =>
        Assert.Throws<InvalidRequestBodyException>(() => RequestFactsReader.Read(body));

    /// <summary>What the merge reads only when it touches an object: a name or a category that is not UTF-8, a field named twice.</summary>
    public static TheoryData<byte[]> BodiesRefusedOnRead => new()
    {
        NotUtf8("""{" """, """ ":1}"""),
        NotUtf8("""{"safetySettings":[{"category":" """, """ "}]}"""),
        Encoding.UTF8.GetBytes("""{"safetySettings":[],"safetySettings":[]}"""),
    };

    [Theory]
    [MemberData(nameof(BodiesRefusedOnRead))]
    public void The_safety_merge_reports_a_body_refused_on_read_not_throws_it(byte[] body) =>
        Assert.Throws<InvalidRequestBodyException>(() =>
            SafetySettingsMerger.Merge(body, new Dictionary<string, string> { ["HARM_CATEGORY_HARASSMENT"] = "BLOCK_NONE" }));

    /// <summary>The two parts (each trimmed of the space that ends or starts it) around a byte no UTF-8 text holds.</summary>
    private static byte[] NotUtf8(string before, string after) =>
        [.. Encoding.UTF8.GetBytes(before.TrimEnd()), 0xFF, .. Encoding.UTF8.GetBytes(after.TrimStart())];

    /// <summary>Random bodies: the merge either returns valid JSON holding every original field, or says the body is invalid.</summary>
    [Fact]
    public void Safety_merge_never_throws_anything_else_and_keeps_every_field()
    {
        var random = new Random(7);
        var thresholds = new Dictionary<string, string> { ["HARM_CATEGORY_HARASSMENT"] = "BLOCK_NONE", ["HARM_CATEGORY_HATE_SPEECH"] = "OFF" };
        string[] fragments = ["{", "}", "[", "]", "\"safetySettings\"", ":", ",", "\"category\"", "\"HARM_CATEGORY_HARASSMENT\"", "\"x\"", "1", "null", "{\"a\":1}"];
        for (var i = 0; i < 20_000; i++)
        {
            var body = string.Concat(Enumerable.Range(0, random.Next(0, 25)).Select(_ => fragments[random.Next(fragments.Length)]));
            byte[] merged;
            try
            {
                merged = SafetySettingsMerger.Merge(Encoding.UTF8.GetBytes(body), thresholds);
            }
            catch (InvalidRequestBodyException)
            {
                continue;
            }
            var original = JsonNode.Parse(body)!.AsObject();
            var result = JsonNode.Parse(merged)!.AsObject();
            foreach (var (name, _) in original)
            {
                Assert.True(result.ContainsKey(name));
            }
            Assert.IsType<JsonArray>(result["safetySettings"]);
        }
    }

    [Fact]
    public void A_requests_own_category_wins_and_missing_ones_are_added()
    {
        var body = """{"contents":[],"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_LOW_AND_ABOVE"}]}"""u8;
        var merged = JsonNode.Parse(SafetySettingsMerger.Merge(body, new Dictionary<string, string>
        {
            ["HARM_CATEGORY_HARASSMENT"] = "BLOCK_NONE",
            ["HARM_CATEGORY_CIVIC_INTEGRITY"] = "OFF",
        }))!;
        var settings = merged["safetySettings"]!.AsArray();
        Assert.Equal(2, settings.Count);
        Assert.Equal("BLOCK_LOW_AND_ABOVE", (string)settings[0]!["threshold"]!);
        Assert.Equal("HARM_CATEGORY_CIVIC_INTEGRITY", (string)settings[1]!["category"]!);
    }

    [Theory]
    [InlineData("gemini-2.0-flash", "gemini-2.0-flash")]
    [InlineData("models/gemini-2.5-pro-preview-05-06", "gemini-2.5-pro-preview-05-06")]
    [InlineData("text-embedding-004", "text-embedding-004")]
    public void Good_model_names(string raw, string expected)
    {
        Assert.True(ModelName.TryNormalize(raw, out var model));
        Assert.Equal(expected, model);
    }

    [Theory]
    [InlineData("")]
    [InlineData("models/")]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("a%2Fb")]
    [InlineData("a\r\nb")]
    [InlineData("a b")]
    [InlineData(".hidden")]
    [InlineData("models/models/x")]
    public void Bad_model_names(string raw) => Assert.False(ModelName.TryNormalize(raw, out _));

    [Theory]
    [InlineData("generateContent", true)]
    [InlineData("predictLongRunning", true)]
    [InlineData("batchEmbedContents2", true)]
    [InlineData("", false)]
    [InlineData("2fast", false)]
    [InlineData("generate-content", false)]
    [InlineData("generate/content", false)]
    [InlineData("generate%2Fcontent", false)]
    public void Method_names_are_letters_and_digits(string method, bool valid) => Assert.Equal(valid, MethodName.IsValid(method));

    [Theory]
    [InlineData("chat/completions", true)]
    [InlineData("audio/transcriptions", true)]
    [InlineData("models/gemini-2.0-flash:generate", true)]
    [InlineData("", false)]
    [InlineData("../secrets", false)]
    [InlineData("a/./b", false)]
    [InlineData("a//b", false)]
    [InlineData("a%2Fb", false)]
    [InlineData("a b", false)]
    [InlineData("chat/completions\r\nX: 1", false)]
    public void Forwarded_OpenAi_paths_cannot_leave_the_api(string path, bool safe) => Assert.Equal(safe, UpstreamPath.IsSafe(path));
}
