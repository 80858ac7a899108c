using System.Globalization;

namespace GeminiParty.FakeGemini;

/// <summary>
/// How the fake upstream behaves. <see cref="ValidKeys"/> and <see cref="FastMode"/> are read at start;
/// the other properties are read on every request, so a test may change them on a running server.
/// </summary>
public sealed class FakeGeminiOptions
{
    /// <summary>Keys that are accepted; when empty, every non-empty key is accepted.</summary>
    public IReadOnlyCollection<string> ValidKeys { get; set; } = [];

    /// <summary>Events per stream (the last one carries finishReason and usage).</summary>
    public int StreamEvents { get; set; } = 3;

    /// <summary>
    /// Characters of generated text per stream event (and per event's share of a whole answer); 0 for a short fixed
    /// sentence. Benchmarks set it so that answers weigh what real ones do.
    /// </summary>
    public int PieceLength { get; set; }

    /// <summary>Pause between two stream events.</summary>
    public TimeSpan StreamEventDelay { get; set; }

    /// <summary>Every stream sends its first event, then waits for <see cref="FakeGeminiServer.ReleaseStreams"/>.</summary>
    public bool HoldStreamsAfterFirstEvent { get; set; }

    /// <summary>A stream sends its headers, then stays silent this long before its first event.</summary>
    public TimeSpan StreamIdleBeforeFirstEvent { get; set; }

    /// <summary>A stream stays silent this long after its first event (a stalled generation).</summary>
    public TimeSpan StreamIdleAfterFirstEvent { get; set; }

    /// <summary>Delay before every API answer, to model a real model's think time.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>For benchmarks: no bodies, headers or request list are kept (only counts), and answers are small fixed bodies.</summary>
    public bool FastMode { get; set; }

    /// <summary>
    /// Reads FAKE_GEMINI_KEYS (comma-separated), FAKE_GEMINI_LATENCY_MS, FAKE_GEMINI_FAST (1/true),
    /// FAKE_GEMINI_STREAM_EVENTS and FAKE_GEMINI_STREAM_DELAY_MS.
    /// </summary>
    public static FakeGeminiOptions FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var options = new FakeGeminiOptions();

        var keys = getVariable("FAKE_GEMINI_KEYS");
        if (!string.IsNullOrWhiteSpace(keys))
        {
            options.ValidKeys = keys.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }

        if (ReadInt(getVariable, "FAKE_GEMINI_LATENCY_MS") is { } latency)
        {
            options.Latency = TimeSpan.FromMilliseconds(latency);
        }

        if (ReadInt(getVariable, "FAKE_GEMINI_STREAM_EVENTS") is { } events)
        {
            options.StreamEvents = Math.Max(1, events);
        }

        if (ReadInt(getVariable, "FAKE_GEMINI_PIECE_CHARS") is { } pieceLength)
        {
            options.PieceLength = Math.Max(0, pieceLength);
        }

        if (ReadInt(getVariable, "FAKE_GEMINI_STREAM_DELAY_MS") is { } delay)
        {
            options.StreamEventDelay = TimeSpan.FromMilliseconds(delay);
        }

        var fast = getVariable("FAKE_GEMINI_FAST");
        options.FastMode = fast is "1" || string.Equals(fast, "true", StringComparison.OrdinalIgnoreCase);
        return options;
    }

    private static int? ReadInt(Func<string, string?> getVariable, string name)
    {
        var text = getVariable(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new InvalidOperationException($"{name} is '{text}': set it to a whole number of 0 or more");
    }
}
