using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Tests;

/// <summary>One structured line per request, with no token, key or query string in it.</summary>
[Collection(FrontendCollection.Name)]
public sealed class RequestLogTests(FrontendFixture gateway)
{
    [Fact]
    public async Task Each_request_logs_one_information_line_with_route_model_key_attempts_status_and_bytes()
    {
        var model = FrontendFixture.NewModel();
        // the token in ?key= must not reach the log, nor must the path or query
        using var response = await gateway.Client.SendAsync(
            gateway.Request(HttpMethod.Post, $"/v1beta/models/{model}:generateContent?key={FrontendFixture.SecondToken}&alt=json", FrontendAssertions.Prompt, token: null),
            TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)response.StatusCode);
        var length = (await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).Length;

        var line = Assert.Single(await EventuallyAsync(() => RequestLines(gateway, model))); // written once the answer has left
        Assert.StartsWith($"Information {RequestLog.Category} {ClientPolicy.UnnamedName} native {model} stream=False key #", line);
        Assert.Contains("attempts 1 -> 200 in ", line);
        Assert.Contains($"{FrontendAssertions.Prompt.Length} B in, {length} B out", line);
        Assert.Contains("Route=native;Model=" + model, line); // structured: each part is a named property
        Assert.DoesNotContain(FrontendFixture.SecondToken, line);
        Assert.DoesNotContain("key=", line);
        Assert.DoesNotContain("generateContent", line);
        FrontendAssertions.AssertNoUpstreamKey(line);
    }

    [Fact]
    public async Task Every_answer_names_its_request_and_the_log_line_carries_the_same_id()
    {
        var model = FrontendFixture.NewModel();
        using var first = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        using var second = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        using var refused = await gateway.Client.SendAsync(gateway.Request(HttpMethod.Get, "/v1beta/models", token: "not-a-token"), TestContext.Current.CancellationToken);

        var ids = new[] { first, second, refused }.Select(r => Assert.Single(r.Headers.GetValues("x-request-id"))).ToArray();
        Assert.Equal(3, ids.Distinct().Count());
        // this process's random tag, then its count: another replica's ids start with another tag
        Assert.All(ids, id => Assert.Matches("^[0-9a-v]{8}-[0-9a-f]+$", id));
        Assert.Single(ids.Select(id => id[..8]).Distinct());
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode); // the gateway's own answers carry one too
        var lines = await EventuallyAsync(() => RequestLines(gateway, model).Length == 2 ? RequestLines(gateway, model) : []);
        Assert.Contains(lines, line => line.Contains($", id {ids[0]}", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains($", id {ids[1]}", StringComparison.Ordinal));
    }

    private static async Task<string[]> EventuallyAsync(Func<string[]> lines)
    {
        for (var waited = 0; lines().Length == 0 && waited < 5000; waited += 20)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
        return lines();
    }

    internal static string[] RequestLines(FrontendFixture gateway, string model) =>
        gateway.Logs.Lines.Where(l => l.Contains($" {RequestLog.Category} ") && l.Contains(model)).ToArray();
}

public sealed class QuietJsonFrontendFixture : FrontendFixture
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings => new Dictionary<string, string>
    {
        ["LOG_REQUESTS"] = "false",
        ["LOG_FORMAT"] = "json",
    };
}

public sealed class QuietRequestLogTests(QuietJsonFrontendFixture gateway) : IClassFixture<QuietJsonFrontendFixture>
{
    [Fact]
    public async Task LOG_REQUESTS_false_silences_the_request_line_and_LOG_FORMAT_json_selects_the_json_console()
    {
        var model = FrontendFixture.NewModel();
        using var response = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt);
        Assert.Equal(200, (int)response.StatusCode);

        using (var again = await gateway.PostJsonAsync($"/v1beta/models/{model}:generateContent", FrontendAssertions.Prompt))
        {
            Assert.Equal(200, (int)again.StatusCode);
        }
        await Task.Delay(RequestLog.WriteInterval * 5, TestContext.Current.CancellationToken); // queued lines would be written by now
        Assert.Empty(RequestLogTests.RequestLines(gateway, model));
        Assert.Equal(ConsoleFormatterNames.Json, gateway.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
    }
}
