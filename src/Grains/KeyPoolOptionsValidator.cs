using Microsoft.Extensions.Options;

namespace GeminiParty;

internal sealed class KeyPoolOptionsValidator : IValidateOptions<KeyPoolOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyPoolOptions options)
    {
        List<string> failures = [];
        if (options.BlacklistTimeoutMs <= 0)
        {
            failures.Add($"BLACKLIST_TIMEOUT is {options.BlacklistTimeoutMs}: set it to a positive number of milliseconds (default 300000).");
        }
        if (options.RotationResetIntervalMs <= 0)
        {
            failures.Add($"ROTATION_RESET_INTERVAL is {options.RotationResetIntervalMs}: set it to a positive number of milliseconds (default 60000).");
        }
        if (options.CounterFlushIntervalMs is < 50 or > 60_000)
        {
            failures.Add($"COUNTER_FLUSH_INTERVAL is {options.CounterFlushIntervalMs}: set it between 50 and 60000 milliseconds (default 1000).");
        }
        if (options.KeyProbeIntervalMs < 1_000)
        {
            failures.Add($"KEY_PROBE_INTERVAL is {options.KeyProbeIntervalMs}: set it to 1000 milliseconds or more (default 600000).");
        }
        if (options.KeyTransientLimit < 1)
        {
            failures.Add($"KEY_TRANSIENT_LIMIT is {options.KeyTransientLimit}: set it to 1 or more (default 5).");
        }
        if (options.KeyCheckIntervalMs is < 100 or > 5_000)
        {
            failures.Add($"KEY_CHECK_INTERVAL is {options.KeyCheckIntervalMs}: set it between 100 and 5000 milliseconds (default 1000).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
