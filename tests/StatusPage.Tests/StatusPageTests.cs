using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using GeminiParty.FakeGemini;
using Microsoft.Playwright;

namespace GeminiParty.StatusPage.Tests;

/// <summary>/status in a real headless chromium, reading the live gateway.</summary>
public sealed class StatusPageTests(StatusPageFixture gateway) : IClassFixture<StatusPageFixture>
{
    private const string Prompt = """{"contents":[{"role":"user","parts":[{"text":"Say hi to the status page"}]}]}""";

    [Fact]
    public async Task After_a_429_the_page_shows_each_key_in_its_state_and_the_cooldown_counts_down()
    {
        var model = await CoolKeyOneAsync();
        var page = await gateway.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });

        await LogInAsync(page, StatusPageFixture.Token);

        var rows = page.Locator("tr.key-row");
        await Assertions.Expect(rows).ToHaveCountAsync(StatusPageFixture.Keys.Length);
        await Assertions.Expect(Row(page, 0)).ToHaveAttributeAsync("data-state", "active");
        await Assertions.Expect(Row(page, 1)).ToHaveAttributeAsync("data-state", "cooling");
        await Assertions.Expect(Row(page, 2)).ToHaveAttributeAsync("data-state", "active");
        await Assertions.Expect(Row(page, 1).Locator(".badge")).ToHaveTextAsync("cooling");
        await Assertions.Expect(Row(page, 0).Locator("code")).ToHaveTextAsync("AIza...aaaa"); // masked
        await Assertions.Expect(page.Locator("tr.model-row", new() { HasText = model })).ToContainTextAsync("2 / 3");
        await Assertions.Expect(page.Locator("tr.silo-row")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("tr.silo-row .badge")).ToHaveTextAsync("Active");

        var countdown = await Row(page, 1).Locator(".countdown").Last.ElementHandleAsync();
        var beforeText = await countdown.TextContentAsync();
        await page.WaitForFunctionAsync("([el, before]) => el.textContent !== before", new object?[] { countdown, beforeText },
            new PageWaitForFunctionOptions { Timeout = 5000 });
        var before = Seconds(beforeText);
        var after = Seconds(await countdown.TextContentAsync());
        Assert.InRange(before, 60, 90);
        Assert.True(after < before, $"the countdown moved from {before} s to {after} s");

        var html = await page.ContentAsync();
        foreach (var key in StatusPageFixture.Keys)
        {
            Assert.DoesNotContain(key, html);
        }
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = StatusPageFixture.ArtifactPath("status-page.png"), FullPage = true });

        // the token is asked once per tab: a reload goes straight to the data
        await page.ReloadAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(StatusPageFixture.Keys.Length);
        await Assertions.Expect(page.Locator("#login")).ToBeHiddenAsync();
        await page.CloseAsync();
    }

    [Fact]
    public async Task With_the_admin_token_the_page_shows_the_clients_and_draws_their_charts()
    {
        await AfterPacificMidnightIfNearAsync();
        var model = "gemini-page-" + Guid.NewGuid().ToString("N")[..8];
        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1beta/models/{model}:generateContent")
            {
                Content = new StringContent(Prompt, Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new("Bearer", StatusPageFixture.ClientToken);
            using var response = await gateway.Client.SendAsync(request, TestContext.Current.CancellationToken);
            statuses.Add((int)response.StatusCode);
        }
        Assert.Equal([200, 200, 429], statuses);

        var page = await gateway.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1400 } });
        await LogInAsync(page, StatusPageFixture.AdminToken);

        var row = page.Locator("tr.client-row[data-client='pagebob']");
        await Assertions.Expect(row).ToContainTextAsync("2 rpm");
        await Assertions.Expect(row).ToContainTextAsync("2 · 1 · "); // today: 2 requests, 1 refused
        await Assertions.Expect(page.Locator(".chart")).ToHaveCountAsync(4);

        // the pool's charts carry the other tests' traffic too: pagebob's own show exactly these three requests,
        // in one bar or, when they straddle a minute, in two
        await page.SelectOptionAsync("#usage-of", "pagebob");
        var perMinute = page.Locator(".chart[data-chart='Requests per minute, last hour']");
        var served = await BarValuesAsync(perMinute, "requests");
        Assert.Equal(2, served.Sum());
        Assert.InRange(served.Count, 1, 2);
        Assert.Equal([1L], await BarValuesAsync(perMinute, "rate limited (429)"));
        Assert.True((await BarValuesAsync(page.Locator(".chart[data-chart='Tokens per day, last 31 days']"), "tokens")).Sum() > 0);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = StatusPageFixture.ArtifactPath("status-page-clients.png"), FullPage = true });
        await page.CloseAsync();
    }

    [Fact]
    public async Task A_wrong_token_shows_an_error_and_asks_again()
    {
        var context = await gateway.Browser.NewContextAsync();
        var page = await context.NewPageAsync();

        await LogInAsync(page, "not-the-token");

        await Assertions.Expect(page.Locator("#error")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("not accepted");
        await Assertions.Expect(page.Locator("#login")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("tr.key-row")).ToHaveCountAsync(0);
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('gemini-party.token')"));
        await context.CloseAsync();
    }

    [Fact]
    public async Task On_a_phone_the_page_fits_the_screen()
    {
        await CoolKeyOneAsync();
        var context = await gateway.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 390, Height = 844 },
            DeviceScaleFactor = 2,
            IsMobile = true,
            HasTouch = true,
        });
        var page = await context.NewPageAsync();

        await LogInAsync(page, StatusPageFixture.Token);

        await Assertions.Expect(page.Locator("tr.key-row")).ToHaveCountAsync(StatusPageFixture.Keys.Length);
        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
        Assert.True(overflow <= 0, $"the page is {overflow} px wider than the phone");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = StatusPageFixture.ArtifactPath("status-page-phone.png"), FullPage = true });
        await context.CloseAsync();
    }

    [Fact]
    public async Task Each_key_shows_the_live_resources_only_it_can_reach()
    {
        var ct = TestContext.Current.CancellationToken;
        using var content = new StringContent("""{"model":"models/gemini-2.0-flash","contents":[{"role":"user","parts":[{"text":"remember this"}]}],"ttl":"600s"}""",
            Encoding.UTF8, "application/json");
        using var created = await gateway.Client.PostAsync("/v1beta/cachedContents", content, ct);
        Assert.Equal(200, (int)created.StatusCode);
        var cache = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("name").GetString()!;
        using var got = await gateway.Client.GetAsync("/v1beta/" + cache, ct); // answered by its key
        Assert.Equal(200, (int)got.StatusCode);
        var owner = Array.IndexOf(StatusPageFixture.Keys, gateway.Upstream.Requests.Last(r => r.Path == "/v1beta/" + cache).ApiKey);
        var page = await gateway.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });

        await LogInAsync(page, StatusPageFixture.Token);

        await Assertions.Expect(Row(page, owner).Locator("td.resources .resource-counts")).ToHaveTextAsync("1 caches");
        await Assertions.Expect(Row(page, (owner + 1) % StatusPageFixture.Keys.Length).Locator("td.resources")).ToHaveTextAsync("none");
        await Assertions.Expect(page.Locator(".card[data-card='Live resources'] b")).ToHaveTextAsync("1");
        await Assertions.Expect(Row(page, owner).Locator(".affinity-waits")).ToHaveCountAsync(0);

        // the owner cools for a second under a request using the cache: the request waits for it, and the row says so
        gateway.Upstream.SetFault(StatusPageFixture.Keys[owner], FakeFault.RateLimitPerMinute(1), times: 1);
        var model = "gemini-page-" + Guid.NewGuid().ToString("N")[..8];
        using var generate = new StringContent($$$"""{"cachedContent":"{{{cache}}}","contents":[{"role":"user","parts":[{"text":"and now?"}]}]}""",
            Encoding.UTF8, "application/json");
        using var waited = await gateway.Client.PostAsync($"/v1beta/models/{model}:generateContent", generate, ct);
        Assert.Equal(200, (int)waited.StatusCode);

        await Assertions.Expect(Row(page, owner).Locator(".affinity-waits")).ToHaveTextAsync("1 affinity wait",
            new LocatorAssertionsToHaveTextOptions { Timeout = 15_000 }); // at the page's next refresh
        await Assertions.Expect(Row(page, (owner + 1) % StatusPageFixture.Keys.Length).Locator(".affinity-waits")).ToHaveCountAsync(0);
        await page.CloseAsync();
    }

    [Fact]
    public async Task The_page_is_self_contained()
    {
        using var response = await gateway.Client.GetAsync("/status", TestContext.Current.CancellationToken);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("<script src", html);
        Assert.DoesNotContain("<link", html);
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    /// <summary>
    /// The row's "today" counts one Pacific day, as the pool's quotas do: a test that ran across Pacific midnight would
    /// see its requests split over two days. Within a minute of it, the test starts after it instead.
    /// </summary>
    private static async Task AfterPacificMidnightIfNearAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var untilMidnight = QuotaReset.NextPacificMidnight(now) - now;
        if (untilMidnight < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(untilMidnight + TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        }
    }

    private static ILocator Row(IPage page, int index) => page.Locator($"tr.key-row[data-index='{index}']");

    /// <summary>The values of a chart's bars of one series, read from their hover titles ("12:34: 2 requests").</summary>
    private static async Task<List<long>> BarValuesAsync(ILocator chart, string series)
    {
        var bars = chart.Locator($"rect[data-series='{series}']");
        await Assertions.Expect(bars.First).ToBeAttachedAsync();
        var titles = await bars.Locator("title").AllTextContentsAsync();
        return titles.Select(title => Regex.Match(title, $@": ([\d,]+) {Regex.Escape(series)}$"))
            .Select(match => match.Success ? long.Parse(match.Groups[1].Value.Replace(",", ""), CultureInfo.InvariantCulture) : -1)
            .ToList();
    }

    private async Task LogInAsync(IPage page, string token)
    {
        await page.GotoAsync(new Uri(gateway.BaseAddress, "status").ToString());
        await page.Locator("#token").FillAsync(token);
        await page.Locator("#login-form button").ClickAsync();
    }

    /// <summary>Sends traffic for a new model with key 1 answering 429 (retry in 90 s) once; waits until the pool has it cooling.</summary>
    private async Task<string> CoolKeyOneAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var model = $"gemini-status-{Guid.NewGuid():N}"[..26];
        gateway.Upstream.SetFault(StatusPageFixture.Keys[1], FakeFault.RateLimitPerMinute(retryDelaySeconds: 90), times: 1);
        for (var i = 0; i < 4; i++)
        {
            using var content = new StringContent(Prompt, Encoding.UTF8, "application/json");
            using var response = await gateway.Client.PostAsync($"/v1beta/models/{model}:generateContent", content, ct);
            Assert.Equal(200, (int)response.StatusCode);
        }
        for (var waited = 0; waited < 5000; waited += 50)
        {
            var status = await gateway.Client.GetFromJsonAsync<JsonElement>("/rotation-status", ct);
            if (status.GetProperty("data").GetProperty("keys")[1].GetProperty("status").GetString() == "cooling")
            {
                return model;
            }
            await Task.Delay(50, ct);
        }
        throw new TimeoutException("key 1 never showed as cooling");
    }

    /// <summary>"1m 29s" or "89s" as seconds.</summary>
    private static int Seconds(string? countdown)
    {
        var total = 0;
        foreach (var part in (countdown ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var value = int.Parse(part[..^1]);
            total += part[^1] switch { 'h' => value * 3600, 'm' => value * 60, _ => value };
        }
        return total;
    }
}
