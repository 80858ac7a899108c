using System.Text;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GeminiParty.Frontend.Tests;

/// <summary>The answers a client gets when no key served it, written without a pool or an upstream.</summary>
public sealed class ErrorAnswersTests : IDisposable
{
    private const string Key = "AIzaSyA-error-answer-test-0123456789abcd";
    private const string Model = "gemini-answers-test";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero));
    private readonly UpstreamKeySource _source;
    private readonly ErrorAnswers _answers;

    public ErrorAnswersTests()
    {
        _source = new UpstreamKeySource(Options.Create(new UpstreamKeysOptions { Raw = Key }), _time, NullLogger<UpstreamKeySource>.Instance);
        _answers = new ErrorAnswers(new UpstreamKeySecrets(_source), _time);
    }

    public void Dispose() => _source.Dispose();

    [Fact]
    public async Task Every_key_cooling_answers_429_with_the_seconds_until_the_first_returns()
    {
        var context = NewContext();

        await _answers.NoKeyAsync(context, Call(), new LeasedKey(null, _time.GetUtcNow().AddSeconds(12.3)), last: null);

        Assert.Equal(StatusCodes.Status429TooManyRequests, context.Response.StatusCode);
        Assert.Equal("13", context.Response.Headers.RetryAfter.ToString());
        Assert.Contains($"Every upstream key is cooling down for model {Model}; the first returns in 13 s.", Body(context));
    }

    [Fact]
    public async Task A_pool_of_invalid_keys_answers_503_that_tells_the_operator_what_to_replace()
    {
        var context = NewContext();

        await _answers.NoKeyAsync(context, Call(), new LeasedKey(null, AllInvalid: true), last: null);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Contains("GEMINI_API_KEY", Body(context));
    }

    [Fact]
    public async Task The_last_daily_quota_429_is_relayed_masked_with_Retry_After_until_Pacific_midnight()
    {
        var context = NewContext();
        var upstream = Encoding.UTF8.GetBytes($$$"""{"error":{"code":429,"message":"quota of {{{Key}}} exhausted","status":"RESOURCE_EXHAUSTED"}}""");
        var failure = new UpstreamFailure(StatusCodes.Status429TooManyRequests, null, upstream,
            new UpstreamClassification(UpstreamOutcome.DailyQuotaExhausted, null, "daily quota"));

        await _answers.AttemptsRanOutAsync(context, Call(), failure);

        Assert.Equal(StatusCodes.Status429TooManyRequests, context.Response.StatusCode);
        var untilMidnight = QuotaReset.NextPacificMidnight(_time.GetUtcNow()) - _time.GetUtcNow();
        Assert.Equal(ApiSurface.RetryAfterSeconds(untilMidnight), context.Response.Headers.RetryAfter.ToString());
        Assert.Contains("RESOURCE_EXHAUSTED", Body(context));
        Assert.DoesNotContain(Key, Body(context));
    }

    private static UpstreamCall Call() =>
        new(ApiSurface.GeminiNative, HttpMethod.Post, $"v1beta/models/{Model}:generateContent", Model, ReadOnlyMemory<byte>.Empty, Streaming: false);

    private static DefaultHttpContext NewContext() => new() { Response = { Body = new MemoryStream() } };

    private static string Body(HttpContext context) => Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());
}
