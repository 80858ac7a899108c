namespace GeminiParty;

/// <summary>Counts for one key and one model. Used both as the lifetime total and as a delta to add to it.</summary>
[GenerateSerializer, Alias("gp.ModelCounters")]
public sealed class ModelCounters
{
    /// <summary>Upstream attempts made with this key for the model, as frontends reported them.</summary>
    [Id(0)] public long Attempts { get; set; }
    [Id(1)] public long Successes { get; set; }
    [Id(2)] public long ClientErrors { get; set; }
    [Id(3)] public long RateLimited { get; set; }
    [Id(4)] public long DailyQuotaExhausted { get; set; }
    [Id(5)] public long Invalid { get; set; }
    [Id(6)] public long Transient { get; set; }
    [Id(7)] public long Timeouts { get; set; }
    [Id(8)] public DateTimeOffset? LastUsed { get; set; }
    [Id(9)] public long PromptTokens { get; set; }
    [Id(10)] public long CandidatesTokens { get; set; }
    [Id(11)] public long TotalTokens { get; set; }

    /// <summary>
    /// Requests naming a resource of this key that waited for it to come back from a cooldown for the model
    /// (MAX_AFFINITY_WAIT). Not attempts: the attempt after the wait is counted as any other.
    /// </summary>
    [Id(12)] public long AffinityWaits { get; set; }

    /// <summary>Attempts whose client closed its connection before the answer started: no failure, no success.</summary>
    [Id(13)] public long ClientClosed { get; set; }

    public void Count(UpstreamOutcome outcome)
    {
        switch (outcome)
        {
            case UpstreamOutcome.Success: Successes++; break;
            case UpstreamOutcome.ClientError: ClientErrors++; break;
            case UpstreamOutcome.RateLimited: RateLimited++; break;
            case UpstreamOutcome.DailyQuotaExhausted: DailyQuotaExhausted++; break;
            case UpstreamOutcome.InvalidKey: Invalid++; break;
            case UpstreamOutcome.Transient: Transient++; break;
            case UpstreamOutcome.Timeout: Timeouts++; break;
            case UpstreamOutcome.ClientClosed: ClientClosed++; break;
        }
    }

    public void AddTokens(TokenCounts tokens)
    {
        PromptTokens += tokens.Prompt;
        CandidatesTokens += tokens.Candidates;
        TotalTokens += tokens.Total;
    }

    public void Add(ModelCounters delta)
    {
        Attempts += delta.Attempts;
        Successes += delta.Successes;
        ClientErrors += delta.ClientErrors;
        RateLimited += delta.RateLimited;
        DailyQuotaExhausted += delta.DailyQuotaExhausted;
        Invalid += delta.Invalid;
        Transient += delta.Transient;
        Timeouts += delta.Timeouts;
        ClientClosed += delta.ClientClosed;
        PromptTokens += delta.PromptTokens;
        CandidatesTokens += delta.CandidatesTokens;
        TotalTokens += delta.TotalTokens;
        AffinityWaits += delta.AffinityWaits;
        if (delta.LastUsed > LastUsed || LastUsed is null)
        {
            LastUsed = delta.LastUsed ?? LastUsed;
        }
    }

    public ModelCounters Clone() => (ModelCounters)MemberwiseClone();
}
