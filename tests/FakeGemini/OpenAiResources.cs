using System.Globalization;

namespace GeminiParty.FakeGemini;

/// <summary>
/// How the OpenAI-compatible files and batches address the fake's resource store: by Google resource name
/// (<c>files/abc</c>, <c>batches/abc</c>), each owned by the key that made it, in OpenAI's cursor-paged lists.
/// </summary>
internal static class OpenAiResources
{
    private const int DefaultLimit = 20;
    private const int MaxLimit = 10_000;

    public static string NewName(string collection) => collection + "/" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// The resource name an id means, and the word after it (<c>content</c>, <c>cancel</c>) if any. An id arrives
    /// three ways that must name one resource: percent-encoded (<c>files%2Fabc</c>, what OpenAI's SDKs send; ASP.NET
    /// Core leaves <c>%2F</c> encoded in route values), raw (<c>files/abc</c>, two segments) or bare (<c>abc</c>).
    /// </summary>
    public static bool TryParse(string id, string collection, out string name, out string? action)
    {
        name = "";
        action = null;
        var segments = Uri.UnescapeDataString(id).Split('/');
        var start = segments.Length > 1 && segments[0] == collection ? 1 : 0;
        if (segments.Length - start is < 1 or > 2 || segments[start].Length == 0)
        {
            return false;
        }

        name = collection + "/" + segments[start];
        action = segments.Length - start == 2 ? segments[^1] : null;
        return true;
    }

    /// <summary>
    /// The resource if the caller's key owns it. Otherwise answers as Google does: 404 when no key's project holds
    /// it (never made, deleted, or of another kind), 403 without a key reason when another key's does.
    /// </summary>
    public static async Task<FakeResource?> OwnedAsync(HttpContext context, FakeResources resources, string name, string kind)
    {
        var resource = resources.Find(name);
        if (resource is null || resource.Kind != kind)
        {
            await NotFoundAsync(context, name);
            return null;
        }

        if (resource.Owner != ResourceEndpoints.Key(context))
        {
            await ResourceEndpoints.DeniedAsync(context, name);
            return null;
        }

        return resource;
    }

    public static Task NotFoundAsync(HttpContext context, string name) =>
        ResponseWriter.WriteErrorAsync(context, GoogleErrors.NotFound($"{name} was not found."));

    /// <summary>
    /// One page of <paramref name="owned"/>, newest first as OpenAI lists: <c>limit</c> items (default 20) after the
    /// one named by <c>after</c> (an id in any of its forms; one no longer listed ends the list). False, with the 400
    /// written, for a limit out of range.
    /// </summary>
    public static bool TryPage(HttpContext context, IEnumerable<FakeResource> owned, string collection,
        out IReadOnlyList<FakeResource> page, out bool hasMore, out Task rejection)
    {
        page = [];
        hasMore = false;
        var query = context.Request.Query;
        var limit = DefaultLimit;
        if (query.ContainsKey("limit")
            && (!int.TryParse(query["limit"], NumberStyles.Integer, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            rejection = ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest($"Invalid 'limit': expected an integer from 1 to {MaxLimit}."));
            return false;
        }

        rejection = Task.CompletedTask;
        var ordered = owned.OrderByDescending(r => r.Created).ThenByDescending(r => r.Name, StringComparer.Ordinal).ToList();
        var start = 0;
        if (query["after"].ToString() is { Length: > 0 } after)
        {
            var index = TryParse(after, collection, out var name, out var action) && action is null ? ordered.FindIndex(r => r.Name == name) : -1;
            start = index < 0 ? ordered.Count : index + 1;
        }

        page = ordered.Skip(start).Take(limit).ToList();
        hasMore = start + page.Count < ordered.Count;
        return true;
    }
}
