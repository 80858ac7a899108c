using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Tests;

/// <summary>What a frontend's lease cache holds, read once it is at rest: a count that does not move under the assertion.</summary>
internal static class KeyLeasesState
{
    /// <summary>How many keys of <paramref name="model"/> the frontend holds unused once no pool call is out.</summary>
    public static async Task<int> HeldWhenSettledAsync(this KeyLeases leases, string model)
    {
        while (true)
        {
            var (held, fetching) = leases.Holding(model);
            if (fetching is null)
            {
                return held;
            }
            // the call clears what is in flight before its task completes; a read-ahead it set off is awaited in turn
            await fetching.ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }
}
