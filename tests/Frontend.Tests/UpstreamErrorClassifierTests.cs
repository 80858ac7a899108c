using System.Text;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Tests;

/// <summary>The classification table on bodies shaped like Google's real answers.</summary>
public sealed class UpstreamErrorClassifierTests
{
    private const string PerMinute = """
        {"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED",
        "details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier","quotaDimensions":{"location":"global","model":"gemini-2.0-flash"},"quotaValue":"15"}]},
        {"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"Learn more about Gemini API quotas","url":"https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}
        """;

    private const string PerDay = """
        {"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED",
        "details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier","quotaValue":"200"}]},
        {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"14s"}]}}
        """;

    private const string InvalidKey = """
        {"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",
        "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}},
        {"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid. Please pass a valid API key."}]}}
        """;

    private const string BadRequest = """
        {"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"contentz\": Cannot find field.","status":"INVALID_ARGUMENT",
        "details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"description":"Invalid JSON payload received. Unknown name \"contentz\""}]}]}}
        """;

    private const string Suspended = """
        {"error":{"code":403,"message":"Consumer 'api_key:AIzaSyExampleExampleExampleExample12345' has been suspended.","status":"PERMISSION_DENIED",
        "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CONSUMER_SUSPENDED","domain":"googleapis.com"}]}}
        """;

    private const string FileOfAnotherKey = """
        {"error":{"code":403,"message":"You do not have permission to access the File abc123 or it may not exist.","status":"PERMISSION_DENIED"}}
        """;

    private const string LocationNotSupported = """
        {"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}
        """;

    private static string KeyReason(int status, string reason) =>
        $$$"""{"error":{"code":{{{status}}},"message":"m","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"{{{reason}}}","domain":"googleapis.com"}]}}""";

    public static TheoryData<int, string, UpstreamOutcome> Table => new()
    {
        { 200, "{}", UpstreamOutcome.Success },
        { 429, PerMinute, UpstreamOutcome.RateLimited },
        { 429, PerDay, UpstreamOutcome.DailyQuotaExhausted },
        { 429, "[" + PerDay + "]", UpstreamOutcome.DailyQuotaExhausted }, // OpenAI-compatible endpoint's wrapping
        { 429, "", UpstreamOutcome.RateLimited },
        { 400, InvalidKey, UpstreamOutcome.InvalidKey },
        { 401, """{"error":{"code":401,"status":"UNAUTHENTICATED","message":"x"}}""", UpstreamOutcome.InvalidKey },
        { 403, Suspended, UpstreamOutcome.InvalidKey },
        { 400, KeyReason(400, "API_KEY_EXPIRED"), UpstreamOutcome.InvalidKey },
        { 403, KeyReason(403, "SERVICE_DISABLED"), UpstreamOutcome.InvalidKey },
        { 403, KeyReason(403, "API_KEY_SERVICE_BLOCKED"), UpstreamOutcome.InvalidKey },
        { 403, KeyReason(403, "API_KEY_HTTP_REFERRER_BLOCKED"), UpstreamOutcome.InvalidKey },
        { 403, KeyReason(403, "API_KEY_IP_ADDRESS_BLOCKED"), UpstreamOutcome.InvalidKey },
        { 403, """{"error":{"code":403,"message":"Your API key was reported as leaked. Please use another API key.","status":"PERMISSION_DENIED"}}""", UpstreamOutcome.InvalidKey },
        { 403, FileOfAnotherKey, UpstreamOutcome.ClientError },
        { 403, KeyReason(403, "SOMETHING_ELSE"), UpstreamOutcome.ClientError },
        { 403, "", UpstreamOutcome.ClientError },
        { 400, LocationNotSupported, UpstreamOutcome.ClientError },
        { 400, BadRequest, UpstreamOutcome.ClientError },
        { 404, """{"error":{"code":404,"message":"models/nope is not found","status":"NOT_FOUND"}}""", UpstreamOutcome.ClientError },
        { 413, "", UpstreamOutcome.ClientError },
        { 500, """{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}""", UpstreamOutcome.Transient },
        { 503, """{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}""", UpstreamOutcome.Transient },
        { 502, "<html><body>Bad Gateway</body></html>", UpstreamOutcome.Transient },
        { 504, """{"error":{"code":504,"message":"Deadline expired before operation could complete.","status":"DEADLINE_EXCEEDED"}}""", UpstreamOutcome.Timeout },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Each_row_of_the_table(int status, string body, UpstreamOutcome expected) =>
        Assert.Equal(expected, UpstreamErrorClassifier.Classify(status, Encoding.UTF8.GetBytes(body)).Outcome);

    [Theory]
    [InlineData(401, """{"error":{"code":401,"status":"UNAUTHENTICATED","message":"x"}}""", UpstreamOutcome.ClientError)]
    [InlineData(403, FileOfAnotherKey, UpstreamOutcome.ClientError)]
    [InlineData(404, """{"error":{"code":404,"message":"File abc123 not found.","status":"NOT_FOUND"}}""", UpstreamOutcome.ClientError)]
    [InlineData(403, Suspended, UpstreamOutcome.InvalidKey)]
    public void With_a_resource_in_play_only_a_key_reason_blames_the_key(int status, string body, UpstreamOutcome expected) =>
        Assert.Equal(expected, UpstreamErrorClassifier.Classify(status, Encoding.UTF8.GetBytes(body), resourceInPlay: true).Outcome);

    [Fact]
    public void The_retry_delay_comes_from_RetryInfo()
    {
        var result = UpstreamErrorClassifier.Classify(429, Encoding.UTF8.GetBytes(PerMinute));
        Assert.Equal(TimeSpan.FromSeconds(37), result.RetryDelay);
        Assert.DoesNotContain("AIza", result.Reason);
    }

    [Theory]
    [InlineData("37s", 37.0)]
    [InlineData("1.5s", 1.5)]
    [InlineData("0s", 0.0)]
    public void Durations_parse(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), UpstreamErrorClassifier.ParseDuration(text));

    [Theory]
    [InlineData("37")]
    [InlineData("-3s")]
    [InlineData("NaNs")]
    [InlineData("99999999999s")]
    public void Nonsense_durations_are_ignored(string text) => Assert.Null(UpstreamErrorClassifier.ParseDuration(text));

    /// <summary>Random statuses, bodies and detail lists: the classifier never throws and never blames a key for a client error.</summary>
    [Fact]
    public void Random_answers_never_throw_and_never_blame_a_key_for_a_client_error()
    {
        var random = new Random(20261126);
        string[] fragments =
        [
            "{", "}", "[", "]", "\"error\"", ":", ",", "\"details\"", "\"quotaId\"", "\"PerDay\"", "\"retryDelay\"", "\"3s\"",
            "\"reason\"", "\"API_KEY_INVALID\"", "\"violations\"", "null", "1e999", "\"\\u0000\"", "true", "\"status\"",
        ];
        for (var i = 0; i < 20_000; i++)
        {
            var status = random.Next(0, 4) == 0 ? random.Next(100, 600) : new[] { 400, 404, 409, 422, 429, 500, 503, 504 }[random.Next(8)];
            var body = random.Next(3) switch
            {
                0 => string.Concat(Enumerable.Range(0, random.Next(0, 30)).Select(_ => fragments[random.Next(fragments.Length)])),
                1 => RandomError(random, status),
                _ => new string((char)random.Next(0, 0xD7FF), random.Next(0, 50)),
            };
            var result = UpstreamErrorClassifier.Classify(status, Encoding.UTF8.GetBytes(body));

            if (status is >= 400 and < 500 and not (400 or 401 or 403 or 429))
            {
                Assert.Equal(UpstreamOutcome.ClientError, result.Outcome);
            }
            if (status is 400 or 403 && !body.Contains("API_KEY_INVALID", StringComparison.Ordinal))
            {
                Assert.Equal(UpstreamOutcome.ClientError, result.Outcome);
            }
            Assert.False(result.RetryDelay < TimeSpan.Zero);
        }
    }

    private static string RandomError(Random random, int status)
    {
        var details = Enumerable.Range(0, random.Next(0, 4)).Select(_ => random.Next(4) switch
        {
            0 => $$"""{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"{{(random.Next(2) == 0 ? "PerDay" : "PerMinute")}}"}]}""",
            1 => $$"""{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"{{random.Next(-5, 100)}}s"}""",
            2 => """{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SOMETHING_ELSE"}""",
            _ => "42",
        });
        return $$$"""{"error":{"code":{{{status}}},"message":"m","details":[{{{string.Join(",", details)}}}]}}""";
    }
}
