using System.Diagnostics;
using System.Net;

namespace GeminiParty.FakeGemini.Tests;

public sealed class StandaloneProcessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Standalone_process_announces_its_address_and_takes_keys_from_the_environment()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "FakeGemini.dll"), "--urls", "http://127.0.0.1:0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["FAKE_GEMINI_KEYS"] = "env-key-1,env-key-2";
        using var process = Process.Start(start)!;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            string? line;
            do
            {
                line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            }
            while (line is not null && !line.StartsWith("FakeGemini listening on ", StringComparison.Ordinal));

            Assert.NotNull(line);
            using var http = new HttpClient { BaseAddress = new Uri(line["FakeGemini listening on ".Length..]) };
            using var accepted = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/models/gemini-2.0-flash", "env-key-2"), Ct);
            using var rejected = await http.SendAsync(GeminiCalls.NativeGet("/v1beta/models/gemini-2.0-flash", "other-key"), Ct);

            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(Ct);
        }
    }
}
