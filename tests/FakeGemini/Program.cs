namespace GeminiParty.FakeGemini;

/// <summary>
/// Standalone entry point. A named class rather than top-level statements: the web SDK makes a top-level
/// <c>Program</c> public, which would clash with the product's <c>Program</c> in test projects that reference both.
/// </summary>
public static class FakeGeminiProgram
{
    public static async Task Main(string[] args)
    {
        var state = new FakeGeminiState(FakeGeminiOptions.FromEnvironment());
        await using var app = FakeGeminiApp.Build(state, args);
        await app.StartAsync();
        foreach (var url in app.Urls)
        {
            // Scripts wait for this line to know the port.
            Console.WriteLine($"FakeGemini listening on {url}");
        }

        await app.WaitForShutdownAsync();
    }
}
