using System.Net.WebSockets;
using System.Text;
using GeminiParty.Frontend.Live;

namespace GeminiParty.Frontend.Tests;

/// <summary>The Live API's pieces that need no connection: path, setup, close classification, close reasons.</summary>
public sealed class LiveProtocolTests
{
    [Theory]
    [InlineData("google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent", "v1beta", "BidiGenerateContent")]
    [InlineData("google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateMusic", "v1alpha", "BidiGenerateMusic")]
    [InlineData("google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContentConstrained", "v1", "BidiGenerateContentConstrained")]
    [InlineData("google.ai.generativelanguage.v2beta3.GenerativeService.BidiSomethingNew", "v2beta3", "BidiSomethingNew")]
    public void Live_paths_name_a_version_and_a_method(string name, string version, string method)
    {
        Assert.True(LiveRpc.TryParse(name, out var rpc));
        Assert.Equal(version, rpc.Version);
        Assert.Equal(method, rpc.Method);
        Assert.Equal($"ws/{name}", rpc.UpstreamPath);
    }

    [Theory]
    [InlineData("google.ai.generativelanguage.beta.GenerativeService.BidiGenerateContent")]
    [InlineData("google.ai.generativelanguage.v1beta.GenerativeService.bidiGenerateContent")]
    [InlineData("google.ai.generativelanguage.v1beta.GenerativeService.Bidi-Generate")]
    [InlineData("google.ai.generativelanguage.v1beta.GenerativeService.")]
    [InlineData("google.ai.generativelanguage.v1beta/../x.GenerativeService.BidiGenerateContent")]
    [InlineData("google.ai.generativelanguage.v1beta.OtherService.BidiGenerateContent")]
    [InlineData("google.cloud.aiplatform.v1beta1.LlmBidiService")]
    public void Anything_else_is_refused(string name) => Assert.False(LiveRpc.TryParse(name, out _));

    [Theory]
    [InlineData("""{"setup":{"model":"models/gemini-live-2.5-flash","generationConfig":{"responseModalities":["TEXT"]}}}""", "gemini-live-2.5-flash")]
    [InlineData("""{"setup":{"generationConfig":{"x":[1,{"model":"no"}]},"model":"gemini-2.0-flash-live-001"}}""", "gemini-2.0-flash-live-001")]
    [InlineData("""{"other":{"model":"models/no"},"setup":{"model":"models/lyria-realtime-exp"}}""", "lyria-realtime-exp")]
    public void The_model_is_read_from_the_setup(string json, string model)
    {
        Assert.True(LiveSetup.TryReadModel(Encoding.UTF8.GetBytes(json), out var read, out _));
        Assert.Equal(model, read);
    }

    [Theory]
    [InlineData("""{"clientContent":{"turns":[]}}""")]
    [InlineData("""{"setup":{}}""")]
    [InlineData("""{"setup":{"model":"models/../x"}}""")]
    [InlineData("""{"setup":{"model":42}}""")]
    [InlineData("""not json""")]
    [InlineData("""[]""")]
    public void Other_first_messages_are_refused_with_a_reason(string json)
    {
        Assert.False(LiveSetup.TryReadModel(Encoding.UTF8.GetBytes(json), out _, out var problem));
        Assert.False(string.IsNullOrWhiteSpace(problem));
        Assert.True(Encoding.UTF8.GetByteCount(problem) <= LiveCloseReason.MaxBytes);
    }

    [Theory]
    [InlineData(1011, "You exceeded your current quota, please check your plan and billing details.", UpstreamOutcome.RateLimited)]
    [InlineData(1011, "Quota exceeded for quota metric 'Requests per day' (GenerateRequestsPerDayPerProjectPerModel)", UpstreamOutcome.DailyQuotaExhausted)]
    [InlineData(1008, "RESOURCE_EXHAUSTED", UpstreamOutcome.RateLimited)]
    [InlineData(1007, "API key not valid. Please pass a valid API key.", UpstreamOutcome.InvalidKey)]
    [InlineData(1008, "API key not valid. Please pass a valid API key.", UpstreamOutcome.InvalidKey)]
    [InlineData(1008, "Method doesn't allow unregistered callers (callers without established identity).", UpstreamOutcome.InvalidKey)]
    [InlineData(1008, "Consumer 'api_key:AIza...x9Q1' has been suspended.", UpstreamOutcome.InvalidKey)]
    [InlineData(1011, "Internal error encountered.", UpstreamOutcome.Transient)]
    [InlineData(1013, "", UpstreamOutcome.Transient)]
    [InlineData(1008, "models/x is not found for API version v1beta, or is not supported for bidiGenerateContent.", UpstreamOutcome.ClientError)]
    [InlineData(1007, "Invalid JSON payload received. Unknown name \"foo\" at 'setup': Cannot find field.", UpstreamOutcome.ClientError)]
    [InlineData(1000, "quota", UpstreamOutcome.ClientError)]
    [InlineData(4000, "API key", UpstreamOutcome.ClientError)]
    public void Upstream_closes_are_classified_by_code_and_reason(int code, string reason, UpstreamOutcome outcome)
    {
        var classification = LiveCloseClassifier.Classify((WebSocketCloseStatus)code, reason);
        Assert.Equal(outcome, classification.Outcome);
        Assert.StartsWith($"close {code}", classification.Reason);
    }

    [Theory]
    [InlineData("You do not have permission to access the Voice voice_abc or it may not exist.", false, UpstreamOutcome.InvalidKey)]
    [InlineData("You do not have permission to access the Voice voice_abc or it may not exist.", true, UpstreamOutcome.ClientError)]
    [InlineData("PERMISSION_DENIED", true, UpstreamOutcome.ClientError)]
    [InlineData("API key not valid. Please pass a valid API key.", true, UpstreamOutcome.InvalidKey)]
    [InlineData("Permission denied: Consumer 'api_key:x' has been suspended.", true, UpstreamOutcome.InvalidKey)]
    public void A_refused_permission_is_the_resources_when_the_setup_names_one_and_the_keys_otherwise(string reason, bool resourceInPlay, UpstreamOutcome outcome) =>
        Assert.Equal(outcome, LiveCloseClassifier.Classify(WebSocketCloseStatus.PolicyViolation, reason, resourceInPlay).Outcome);

    [Theory]
    [InlineData(429, UpstreamOutcome.RateLimited)]
    [InlineData(401, UpstreamOutcome.InvalidKey)]
    [InlineData(403, UpstreamOutcome.InvalidKey)]
    [InlineData(503, UpstreamOutcome.Transient)]
    [InlineData(404, UpstreamOutcome.ClientError)]
    public void Refused_handshakes_are_classified_as_http_answers(int status, UpstreamOutcome outcome) =>
        Assert.Equal(outcome, LiveCloseClassifier.ClassifyHandshake(status).Outcome);

    [Fact]
    public void Close_reasons_fit_a_close_frame_without_splitting_a_character()
    {
        var fitted = LiveCloseReason.Fit(new string('é', 200));
        Assert.True(Encoding.UTF8.GetByteCount(fitted) <= LiveCloseReason.MaxBytes);
        Assert.EndsWith("...", fitted);
        Assert.Equal("shortone", LiveCloseReason.Fit("short\tone")); // control characters go
        Assert.Equal("a b", LiveCloseReason.Fit("a\n b"));
    }
}
