using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>One API request as the pipeline understood it, handed to the endpoint through HttpContext.Features.</summary>
internal sealed class FakeCall(string surface) : IDisposable
{
    private JsonDocument? _json;
    private bool _jsonParsed;

    public const string Native = "native";
    public const string OpenAi = "openai";

    public string Surface { get; } = surface;

    public string? ApiKey { get; set; }

    /// <summary>The request's place in the order of arrival.</summary>
    public int Arrival { get; set; }

    /// <summary>The model without any "models/" prefix.</summary>
    public string? Model { get; set; }

    /// <summary>The native method after the colon (generateContent, ...); null for GETs and OpenAI calls.</summary>
    public string? Method { get; set; }

    public bool IsStream { get; set; }

    /// <summary>OpenAI only: stream_options.include_usage.</summary>
    public bool IncludeUsage { get; set; }

    /// <summary>The body as the endpoint reads it (decoded when it came gzip-encoded).</summary>
    public byte[] Body { get; set; } = [];

    /// <summary>The body as it crossed the wire, for tests to assert on.</summary>
    public byte[] RawBody { get; set; } = [];

    /// <summary>A multipart form's text fields; null for other bodies.</summary>
    public IReadOnlyDictionary<string, string>? FormFields { get; set; }

    /// <summary>Set by a MidStreamFailure fault: the stream aborts instead of sending this event.</summary>
    public int? AbortBeforeEvent { get; set; }

    public bool AbortedByFake { get; private set; }

    /// <summary>The body as JSON (an empty body reads as <c>{}</c>); false when it is not JSON.</summary>
    public bool TryGetJson(out JsonElement root)
    {
        if (!_jsonParsed)
        {
            _jsonParsed = true;
            try
            {
                _json = JsonDocument.Parse(Body.Length == 0 ? "{}"u8.ToArray() : Body);
            }
            catch (JsonException)
            {
                _json = null;
            }
        }

        root = _json?.RootElement ?? default;
        return _json is not null;
    }

    public void Abort(HttpContext context)
    {
        AbortedByFake = true;
        context.Abort();
    }

    /// <summary>
    /// Aborts once the bytes already flushed are on the wire: Kestrel's flush only hands them to the transport,
    /// and an immediate abort would drop them, turning a cut-off answer into a plain reset.
    /// </summary>
    public async Task AbortAfterSentAsync(HttpContext context)
    {
        AbortedByFake = true;
        await Task.Delay(TimeSpan.FromMilliseconds(50));
        context.Abort();
    }

    public void Dispose() => _json?.Dispose();
}
