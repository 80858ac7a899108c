namespace GeminiParty.FakeGemini;

/// <summary>
/// One interaction of the Interactions API, owned by the key that made it. Its answer is decided when it is created
/// (<see cref="Pieces"/>, one a stream delta); a background one stays in progress until its second get, or until it is
/// cancelled.
/// </summary>
internal sealed class FakeInteraction(
    string id, string owner, string? model, string? agent, string? previousId, int turn, IReadOnlyList<string> pieces, TokenUsage usage,
    bool background)
{
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";

    private readonly Lock _gate = new();
    private int _polls;

    public string Id { get; } = id;
    public string Owner { get; } = owner;

    /// <summary>The model without "models/"; null when an agent answers.</summary>
    public string? Model { get; } = model;

    public string? Agent { get; } = agent;
    public string? PreviousId { get; } = previousId;

    /// <summary>1 for a first turn, one more than its <c>previous_interaction_id</c>'s otherwise.</summary>
    public int Turn { get; } = turn;

    public IReadOnlyList<string> Pieces { get; } = pieces;
    public string Text => string.Concat(Pieces);
    public TokenUsage Usage { get; } = usage;
    public bool Background { get; } = background;
    public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;
    public DateTimeOffset Updated { get; private set; } = DateTimeOffset.UtcNow;
    public string Status { get; private set; } = InProgress;

    /// <summary>Only a completed interaction shows its steps and usage.</summary>
    public bool HasOutput => Status == Completed;

    /// <summary>A get: the second one finishes a background interaction, as the fake's batches finish on their second poll.</summary>
    public void Poll()
    {
        if (Interlocked.Increment(ref _polls) >= 2 && Background)
        {
            Finish(Completed);
        }
    }

    public void Complete() => Finish(Completed);

    /// <summary>False unless it is a background interaction still in progress.</summary>
    public bool TryCancel() => Background && Finish(Cancelled);

    /// <summary>A stream that broke off before its end leaves its interaction failed, not in progress for ever.</summary>
    public void FailIfUnfinished() => Finish(Failed);

    private bool Finish(string status)
    {
        lock (_gate)
        {
            if (Status != InProgress)
            {
                return false;
            }

            Status = status;
            Updated = DateTimeOffset.UtcNow;
            return true;
        }
    }
}
