namespace GeminiParty;

/// <summary>Which limit refused a request.</summary>
public enum ClientRefusal
{
    None = 0,
    RequestsPerMinute = 1,
    RequestsPerDay = 2,
    TokensPerDay = 3,
    Concurrency = 4,
}
