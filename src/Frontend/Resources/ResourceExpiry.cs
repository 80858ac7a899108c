using System.Globalization;
using System.Text.Json;

namespace GeminiParty.Frontend.Resources;

/// <summary>
/// How long the gateway keeps a binding: as long as upstream keeps the resource, so a binding neither outlives it by
/// much (Redis stays small) nor lapses while the resource can still be used (which would send it to a key that
/// cannot see it).
/// </summary>
public static class ResourceExpiry
{
    /// <summary>Google deletes uploaded and generated files after 48 hours; an operation's result is fetched within that.</summary>
    public static readonly TimeSpan Files = TimeSpan.FromHours(48);

    /// <summary>
    /// A batch runs for up to 48 hours, then its job and results file stay to be collected. Kept 7 days from the last
    /// answer that named it (its creation or a poll), which covers the run and a client collecting its results late;
    /// a batch still being polled keeps its binding.
    /// </summary>
    public static readonly TimeSpan Batches = TimeSpan.FromDays(7);

    /// <summary>A cache without <c>expireTime</c> in its answer: Google's default TTL is 1 hour.</summary>
    public static readonly TimeSpan DefaultCache = TimeSpan.FromHours(1);

    /// <summary>
    /// File Search stores live until deleted: a binding refreshed by every answer naming the store, 30 days from the last.
    /// </summary>
    public static readonly TimeSpan Stores = TimeSpan.FromDays(30);

    /// <summary>
    /// Google keeps a stored interaction 55 days on the paid tier (1 day on the free one): a binding refreshed by every
    /// answer naming it, 55 days from the last, outlives it on either tier rather than lapsing while a conversation can
    /// still go on.
    /// </summary>
    public static readonly TimeSpan Interactions = TimeSpan.FromDays(55);

    /// <summary>
    /// A stored custom voice expires after a year of inactivity, each use extending it: its answer's <c>expire_time</c>,
    /// else a year from the answer.
    /// </summary>
    public static readonly TimeSpan Voices = TimeSpan.FromDays(365);

    public static DateTimeOffset For(string name, DateTimeOffset now, JsonElement? answer)
    {
        if (name.StartsWith("voices/", StringComparison.Ordinal))
        {
            return TimeIn(answer, "expire_time") ?? now + Voices;
        }
        if (name.StartsWith("interactions/", StringComparison.Ordinal))
        {
            return now + Interactions;
        }
        if (name.StartsWith("cachedContents/", StringComparison.Ordinal))
        {
            return TimeIn(answer, "expireTime") ?? now + DefaultCache;
        }
        if (name.StartsWith("files/", StringComparison.Ordinal) && TimeIn(answer, "expirationTime") is { } fileExpiry)
        {
            return fileExpiry;
        }
        if (name.StartsWith("batches/", StringComparison.Ordinal))
        {
            return now + Batches;
        }
        if (name.StartsWith("fileSearchStores/", StringComparison.Ordinal))
        {
            return now + Stores;
        }
        return now + Files; // files, uploads, operations
    }

    /// <summary>A timestamp field of an answer (RFC 3339, as Google writes them), or null when it has none.</summary>
    private static DateTimeOffset? TimeIn(JsonElement? answer, string field) =>
        answer is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
        && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : null;
}
