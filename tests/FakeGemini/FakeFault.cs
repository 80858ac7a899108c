namespace GeminiParty.FakeGemini;

/// <summary>
/// One scripted misbehaviour. <paramref name="RetryDelaySeconds"/> is used by the 429 kinds (null: no RetryInfo);
/// <paramref name="Status"/> by <see cref="FakeFaultKind.ArrayWrappedError"/> (which error to wrap).
/// </summary>
public sealed record FakeFault(FakeFaultKind Kind, int? RetryDelaySeconds = null, int Status = 429)
{
    public static FakeFault RateLimitPerMinute(int? retryDelaySeconds = 37) => new(FakeFaultKind.RateLimitPerMinute, retryDelaySeconds);
    public static FakeFault QuotaPerDay(int? retryDelaySeconds = null) => new(FakeFaultKind.QuotaPerDay, retryDelaySeconds);
    public static FakeFault ArrayWrappedError(int status = 429) => new(FakeFaultKind.ArrayWrappedError, Status: status);

    public static FakeFault InvalidKey { get; } = new(FakeFaultKind.InvalidKey);
    public static FakeFault Suspended { get; } = new(FakeFaultKind.Suspended);
    public static FakeFault Unauthenticated401 { get; } = new(FakeFaultKind.Unauthenticated401);
    public static FakeFault Internal500 { get; } = new(FakeFaultKind.Internal500);
    public static FakeFault Overloaded503 { get; } = new(FakeFaultKind.Overloaded503);
    public static FakeFault DeadlineExceeded504 { get; } = new(FakeFaultKind.DeadlineExceeded504);
    public static FakeFault BadRequest400 { get; } = new(FakeFaultKind.BadRequest400);
    public static FakeFault ConnectionReset { get; } = new(FakeFaultKind.ConnectionReset);
    public static FakeFault Hang { get; } = new(FakeFaultKind.Hang);
    public static FakeFault NonJson { get; } = new(FakeFaultKind.NonJson);
    public static FakeFault Truncated { get; } = new(FakeFaultKind.Truncated);
    public static FakeFault MidStreamFailure { get; } = new(FakeFaultKind.MidStreamFailure);
    public static FakeFault PermissionDenied { get; } = new(FakeFaultKind.PermissionDenied);
    public static FakeFault LocationNotSupported { get; } = new(FakeFaultKind.LocationNotSupported);
    public static FakeFault EmptyAnswer { get; } = new(FakeFaultKind.EmptyAnswer);

    /// <summary>
    /// Parses the wire form used by the control endpoint and the <c>x-fake-fault</c> header:
    /// <c>Name</c>, optionally followed by <c>;retryDelaySeconds=N</c> and/or <c>;status=N</c>.
    /// </summary>
    public static bool TryParse(string? text, out FakeFault fault)
    {
        fault = Internal500;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var parts = text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (!Enum.TryParse<FakeFaultKind>(parts[0], ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
        {
            return false;
        }

        int? retryDelay = kind == FakeFaultKind.RateLimitPerMinute ? 37 : null;
        var status = 429;
        foreach (var part in parts.AsSpan(1))
        {
            var eq = part.IndexOf('=');
            if (eq < 0 || !int.TryParse(part.AsSpan(eq + 1), out var value))
            {
                return false;
            }

            var name = part[..eq].Trim();
            if (name.Equals("retryDelaySeconds", StringComparison.OrdinalIgnoreCase))
            {
                retryDelay = value < 0 ? null : value;
            }
            else if (name.Equals("status", StringComparison.OrdinalIgnoreCase))
            {
                status = value;
            }
            else
            {
                return false;
            }
        }

        fault = new FakeFault(kind, retryDelay, status);
        return true;
    }
}
