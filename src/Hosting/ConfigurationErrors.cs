using Microsoft.Extensions.Configuration;
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
        catch (Exception ex) when (ex is OptionsValidationException or AggregateException or InvalidOperationException)
        {
            var failures = ex switch
            {
                AggregateException aggregate => aggregate.Flatten().InnerExceptions.SelectMany(Describe),
                _ => Describe(ex),
            };
            foreach (var failure in failures)
            {
                Console.Error.WriteLine($"Configuration error: {failure}");
            }
            return false;
        }
    }

    /// <summary>
    /// Binds options for decisions made while the host is being built. A value that does not convert (PORT=abc) yields
    /// the defaults here, and is reported with the other mistakes by <see cref="ValidateOrExplain"/>.
    /// </summary>
    public static T BindOrDefault<T>(this IConfiguration configuration) where T : new()
    {
        try
        {
            return configuration.Get<T>() ?? new T();
        }
        catch (InvalidOperationException)
        {
            return new T();
        }
    }

    // "Failed to convert configuration value 'abc' at 'PORT' to type 'System.Int32'." says it all
    private static IEnumerable<string> Describe(Exception ex) => ex is OptionsValidationException validation
        ? validation.Failures
        : [ex.Message];
}
