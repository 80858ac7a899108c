namespace GeminiParty.FakeGemini;

/// <summary>The ways the fake upstream can misbehave, each modelled on something Google's API really does.</summary>
public enum FakeFaultKind
{
    /// <summary>429 RESOURCE_EXHAUSTED with a per-minute QuotaFailure and, when a delay is given, RetryInfo.</summary>
    RateLimitPerMinute,
    /// <summary>429 RESOURCE_EXHAUSTED with a per-day (free tier) QuotaFailure.</summary>
    QuotaPerDay,
    /// <summary>400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID.</summary>
    InvalidKey,
    /// <summary>403 PERMISSION_DENIED "Consumer 'api_key:KEY' has been suspended."</summary>
    Suspended,
    /// <summary>401 UNAUTHENTICATED.</summary>
    Unauthenticated401,
    /// <summary>500 INTERNAL.</summary>
    Internal500,
    /// <summary>503 UNAVAILABLE "The model is overloaded. Please try again later."</summary>
    Overloaded503,
    /// <summary>504 DEADLINE_EXCEEDED.</summary>
    DeadlineExceeded504,
    /// <summary>400 INVALID_ARGUMENT without ErrorInfo: the client's fault, not the key's.</summary>
    BadRequest400,
    /// <summary>The connection is aborted before any response byte.</summary>
    ConnectionReset,
    /// <summary>No answer until the client gives up.</summary>
    Hang,
    /// <summary>502 with an HTML body, as a proxy in front of Google would send.</summary>
    NonJson,
    /// <summary>200 application/json whose body stops mid-JSON, then the connection is aborted.</summary>
    Truncated,
    /// <summary>A stream sends two events then the connection is aborted; a non-stream call behaves as <see cref="Truncated"/>.</summary>
    MidStreamFailure,
    /// <summary>The Google error object wrapped in a one-element JSON array (seen on the OpenAI-compatible path).</summary>
    ArrayWrappedError,
    /// <summary>
    /// 403 PERMISSION_DENIED without ErrorInfo, as Google answers a key that asks for a resource another key made
    /// ("You do not have permission to access the File ... or it may not exist").
    /// </summary>
    PermissionDenied,
    /// <summary>400 FAILED_PRECONDITION "User location is not supported for the API use."</summary>
    LocationNotSupported,
    /// <summary>
    /// 200 with no candidates and no block reason, as Gemini sometimes answers: a body with usage only (OpenAI: an empty
    /// <c>choices</c>), or a stream that ends before its first candidate.
    /// </summary>
    EmptyAnswer,
}
