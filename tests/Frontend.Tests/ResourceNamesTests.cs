using System.Text;
using GeminiParty.Frontend.Resources;

namespace GeminiParty.Frontend.Tests;

/// <summary>Where requests name resources: paths, full URIs and short names anywhere in a JSON body.</summary>
public sealed class ResourceNamesTests
{
    [Theory]
    [InlineData("files/abc", "files/abc")]
    [InlineData("files/abc:download", "files/abc")]
    [InlineData("batches/b1:cancel", "batches/b1")]
    [InlineData("cachedContents/c-1", "cachedContents/c-1")]
    [InlineData("models/veo-2.0/operations/op1", "models/veo-2.0/operations/op1")]
    [InlineData("operations/op2", "operations/op2")]
    [InlineData("fileSearchStores/s1/documents/d1", "fileSearchStores/s1")]
    [InlineData("files", null)]
    [InlineData("models/gemini-2.0-flash", null)]
    public void A_path_names_its_resource(string path, string? expected) => Assert.Equal(expected, ResourceNames.FromPath(path));

    [Theory]
    [InlineData("https://generativelanguage.googleapis.com/v1beta/files/abc123", "files/abc123")]
    [InlineData("https://generativelanguage.googleapis.com/v1beta/files/abc123:download?alt=media", "files/abc123")]
    [InlineData("http://gateway.local/gp/v1beta/files/xyz", "files/xyz")]
    [InlineData("files/abc123", "files/abc123")]
    [InlineData("cachedContents/xyz", "cachedContents/xyz")]
    [InlineData("Please read files/abc123 carefully", null)]
    [InlineData("models/gemini-2.0-flash", null)]
    [InlineData("https://example.com/image.png", null)]
    public void A_string_value_names_a_resource_only_when_it_is_one(string value, string? expected) =>
        Assert.Equal(expected, ResourceNames.FromValue(value));

    [Theory]
    [InlineData("""{"id":"v1_ChdabC-12_x","object":"interaction","status":"completed","steps":[]}""", "interactions/v1_ChdabC-12_x")]
    [InlineData("""{"object":"interaction","usage":{"id":"no"},"id":"v1_late"}""", "interactions/v1_late")]
    [InlineData("data: {\"event_type\":\"interaction.created\",\"event_id\":\"e1\",\"interaction\":{\"object\":\"interaction\",\"id\":\"v1_s\",\"status\":\"in_progress\"}}\r\n\r\ndata: {\"id\":\"v1_other\"}\r\n\r\n", "interactions/v1_s")]
    [InlineData("data: {\"event_type\":\"interaction.status_update\",\"interaction_id\":\"v1_u\",\"status\":\"in_progress\"}\n\n", "interactions/v1_u")]
    [InlineData("""{"id":"../../files/x"}""", null)]
    [InlineData("""{"status":"completed"}""", null)]
    [InlineData("""{"id":"v1_cut""", null)]
    [InlineData(": keep-alive\n\n", null)]
    public void An_answer_names_the_interaction_it_is(string answer, string? expected) =>
        Assert.Equal(expected, ResourceNames.InteractionInAnswer(Encoding.UTF8.GetBytes(answer)));

    [Fact]
    public void Every_place_a_body_names_a_resource_is_found_once()
    {
        var body = """
            {"cachedContent":"cachedContents/c1","contents":[{"parts":[{"text":"files/not-a-reference here"},
            {"fileData":{"fileUri":"https://generativelanguage.googleapis.com/v1beta/files/f1","mimeType":"text/plain"}},
            {"file_data":{"file_uri":"files/f1"}}]}],
            "tools":[{"fileSearch":{"fileSearchStoreNames":["fileSearchStores/s1"]}}]}
            """;
        Assert.Equal(["cachedContents/c1", "files/f1", "fileSearchStores/s1"], ResourceNames.InBody(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void A_body_that_names_only_a_file_search_store_is_read_for_it()
    {
        var generate = """{"contents":[{"parts":[{"text":"hi"}]}],"tools":[{"fileSearch":{"fileSearchStoreNames":["fileSearchStores/s2"]}}]}"""u8;
        var created = """{"name":"fileSearchStores/s3","displayName":"docs"}"""u8;
        Assert.Equal(["fileSearchStores/s2"], ResourceNames.InBody(generate));
        Assert.Equal(["fileSearchStores/s3"], ResourceNames.InBody(created));
    }

    [Fact]
    public void A_string_that_is_not_text_names_nothing_and_the_names_around_it_are_still_found()
    {
        byte[] body =
        [
            .. """{"contents":[{"parts":[{"text":"files/"""u8, 0xFF, .. "\"},{\"text\":\"\\ud800 files/\"},"u8,
            .. """{"fileData":{"fileUri":"files/f2"}}]}]}"""u8,
        ];
        Assert.Equal(["files/f2"], ResourceNames.InBody(body)); // the first is not UTF-8, the second a lone surrogate
    }

    [Fact]
    public void A_body_without_a_collection_name_is_not_parsed() =>
        Assert.Empty(ResourceNames.InBody("""{"contents":[{"parts":[{"text":"hi"}]}], broken"""u8));

    [Theory]
    [InlineData("files", "files%2Fabc/content", "files/abc/content")] // escaped, as the OpenAI SDKs send an id
    [InlineData("files", "files%2fabc", "files/abc")]
    [InlineData("files", "files/abc", "files/abc")]                  // pasted as it is
    [InlineData("files", "abc/content", "files/abc/content")]        // bare
    [InlineData("batches", "batches%2Fxyz/cancel", "batches/xyz/cancel")]
    public void An_OpenAI_id_in_a_path_names_its_resource_once(string collection, string rest, string path)
    {
        Assert.Equal(path, ResourceNames.OpenAiPath(collection, rest));
        Assert.Equal(path.Split('/')[0] + "/" + path.Split('/')[1], ResourceNames.FromPath(ResourceNames.OpenAiPath(collection, rest)));
    }
    [Theory]
    [InlineData("""{"generationConfig":{"responseModalities":["AUDIO"],"speechConfig":{"voiceConfig":{"voice":"voice_abc123"}}}}""", "voices/voice_abc123")]
    [InlineData("""{"model":"gemini-tts","input":"hi","speech_config":{"voice":"voice_b-1"}}""", "voices/voice_b-1")]
    [InlineData("""{"store":true,"voice":{"type":"prompted","prompted":{"base_voice":"voice_base","input":"older"}}}""", "voices/voice_base")]
    [InlineData("""{"speechConfig":{"voiceConfig":{"voice":"voices/voice_named"}}}""", "voices/voice_named")]
    [InlineData("""{"contents":[{"parts":[{"text":"voice_abc123"}]}]}""", null)]
    [InlineData("""{"contents":[{"parts":[{"text":"say it in voice_abc123"}]}],"speechConfig":{"voiceConfig":{"voice":"Puck"}}}""", null)]
    [InlineData("""{"speechConfig":{"voiceConfig":{"voice":"voicekey_abc"}}}""", null)]
    [InlineData("""{"speechConfig":{"voiceConfig":{"voice":"voice_"}}}""", null)]
    [InlineData("""{"note":"voices/Puck"}""", null)]
    public void A_custom_voice_is_named_by_its_id_only_where_a_voice_is_expected(string body, string? expected)
    {
        Assert.True(ResourceNames.MayName(Encoding.UTF8.GetBytes(body)) || expected is null);
        Assert.Equal(expected is null ? [] : [expected], ResourceNames.InBody(Encoding.UTF8.GetBytes(body)));
    }

    [Theory]
    [InlineData("""{"id":"voice_abc123","type":"prompted","expire_time":"2027-12-05T00:00:00Z"}""", "voices/voice_abc123")]
    [InlineData("""{"type":"replicated","key":"voicekey_abc"}""", null)]
    [InlineData("""{"id":"Puck","type":"prebuilt"}""", null)]
    public void An_answer_names_the_voice_it_is(string answer, string? expected) =>
        Assert.Equal(expected, ResourceNames.VoiceInAnswer(Encoding.UTF8.GetBytes(answer)));
}
