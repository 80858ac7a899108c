namespace GeminiParty;

/// <summary>
/// A client's usage of one model over some period (a day, a minute), or a delta to add to one. Requests are the ones
/// that went to the pool; refused ones were turned away by the client's own limits or allowlist and never did.
/// </summary>
[GenerateSerializer, Alias("gp.UsageCounts")]
public sealed class UsageCounts
{
    /// <summary>Requests admitted and forwarded.</summary>
    [Id(0)] public long Requests { get; set; }

    /// <summary>Forwarded requests whose answer was not a success (4xx or 5xx).</summary>
    [Id(1)] public long Errors { get; set; }

    /// <summary>Requests the client's limits or model allowlist refused (nothing went upstream).</summary>
    [Id(2)] public long Refused { get; set; }

    /// <summary>429 answers of any cause: the client's limits, or no pool key usable.</summary>
    [Id(3)] public long RateLimited { get; set; }

    [Id(4)] public long PromptTokens { get; set; }
    [Id(5)] public long CandidatesTokens { get; set; }
    [Id(6)] public long TotalTokens { get; set; }

    public void Add(UsageCounts delta)
    {
        Requests += delta.Requests;
        Errors += delta.Errors;
        Refused += delta.Refused;
        RateLimited += delta.RateLimited;
        PromptTokens += delta.PromptTokens;
        CandidatesTokens += delta.CandidatesTokens;
        TotalTokens += delta.TotalTokens;
    }

    public void AddTokens(TokenCounts tokens)
    {
        PromptTokens += tokens.Prompt;
        CandidatesTokens += tokens.Candidates;
        TotalTokens += tokens.Total;
    }

    public UsageCounts Clone() => (UsageCounts)MemberwiseClone();
}
