using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Hosting;

/// <summary>Turns configuration mistakes into lines that say what to set, instead of a stack trace.</summary>
public static class ConfigurationErrors
{
    /// <summary>
    /// Validates every option registered with ValidateOnStart, all at once, before anything reads them. On failure prints
    /// one line per problem to stderr and returns false.
    /// </summary>
    public static bool ValidateOrExplain(this IHost host)
    {
        try
        {
            host.Services.GetService<IStartupValidator>()?.Validate();
            return true;
        }
        catch (Exception ex) when (ex is OptionsValidationException or AggregateException)
        {
            var failures = ex is AggregateException aggregate
                ? aggregate.Flatten().InnerExceptions.OfType<OptionsValidationException>().SelectMany(e => e.Failures)
                : ((OptionsValidationException)ex).Failures;
            foreach (var failure in failures)
            {
                Console.Error.WriteLine($"Configuration error: {failure}");
            }
            return false;
        }
    }
}
