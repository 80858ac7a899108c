namespace GeminiParty.FakeGemini;

/// <summary>
/// Where an OpenAI batch stands, replaced whole on each change so that an answer never shows a status without the
/// output file (or time) that goes with it. Times are Unix seconds.
/// </summary>
internal sealed record OpenAiBatchProgress(string Status, long? InProgressAt, long? CompletedAt, long? CancelledAt, string? OutputFileId)
{
    public const string Validating = "validating";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";

    public static OpenAiBatchProgress Created { get; } = new(Validating, null, null, null, null);
}
