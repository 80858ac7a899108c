namespace GeminiParty.FakeGemini;

/// <summary>
/// What a batch made through <c>/v1beta/openai/batches</c> holds beyond its <see cref="FakeResource"/> (name, owner):
/// the request as made and its progress. It is validating when made, in progress on its first get and completed on
/// the second, as the native batches finish on their second poll; a cancel before that stops it for good.
/// </summary>
internal sealed class FakeOpenAiBatch(string inputFileId, string endpoint, string completionWindow, string? metadataJson, IReadOnlyList<OpenAiBatchLine> lines)
{
    private readonly Lock _gate = new();
    private volatile OpenAiBatchProgress _progress = OpenAiBatchProgress.Created;

    public string InputFileId { get; } = inputFileId;
    public string Endpoint { get; } = endpoint;
    public string CompletionWindow { get; } = completionWindow;

    /// <summary>The request's <c>metadata</c> object as sent, or null.</summary>
    public string? MetadataJson { get; } = metadataJson;

    public IReadOnlyList<OpenAiBatchLine> Lines { get; } = lines;

    public OpenAiBatchProgress Progress => _progress;

    /// <summary>
    /// A get: moves the batch one step on. The step that completes it calls <paramref name="writeOutput"/> for the
    /// output file's id inside the lock, so a cancel cannot land between the file and the status.
    /// </summary>
    public OpenAiBatchProgress Poll(Func<string> writeOutput)
    {
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            _progress = _progress.Status switch
            {
                OpenAiBatchProgress.Validating => _progress with { Status = OpenAiBatchProgress.InProgress, InProgressAt = now },
                OpenAiBatchProgress.InProgress => _progress with { Status = OpenAiBatchProgress.Completed, CompletedAt = now, OutputFileId = writeOutput() },
                _ => _progress,
            };
            return _progress;
        }
    }

    /// <summary>False for a completed batch; a cancelled one stays cancelled.</summary>
    public bool TryCancel(out OpenAiBatchProgress progress)
    {
        lock (_gate)
        {
            if (_progress.Status == OpenAiBatchProgress.Completed)
            {
                progress = _progress;
                return false;
            }

            if (_progress.Status != OpenAiBatchProgress.Cancelled)
            {
                _progress = _progress with { Status = OpenAiBatchProgress.Cancelled, CancelledAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds() };
            }

            progress = _progress;
            return true;
        }
    }
}
