using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using GeminiParty.Frontend.Clients;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using GeminiParty.Frontend.Observability;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Resources;

/// <summary>
/// <c>GET files</c>, <c>cachedContents</c>, <c>batches</c>, <c>operations</c>, <c>fileSearchStores</c>, <c>voices</c>:
/// one list over every key that holds resources of the collection (by the gateway's records, <see cref="IKeyResourcesGrain"/>),
/// asked one after the other in fingerprint order, each with its own upstream paging, behind the gateway's own page token
/// (<see cref="ListPageToken"/>); the voices list then goes on with Google's prebuilt voices from one key. A page holds at most <c>pageSize</c> items; without one, a page is one key's upstream
/// page (empty keys are skipped), as Google's default page size applies per call. The OpenAI-compatible <c>files</c>
/// and <c>batches</c> lists merge the same keys in OpenAI's shape, where the cursor is an item's id
/// (<see cref="ListOpenAiAsync"/>).
/// </summary>
public sealed partial class MergedResourceList(
    HttpMessageInvoker upstream,
    KeyPoolReference pool,
    UpstreamKeySecrets keys,
    KeyResourceCounts counts,
    IOptions<FrontendOptions> options,
    AttemptReporter reporter,
    FrontendMetrics metrics,
    RequestLog requestLog,
    ClientAdmission clients,
    ResourceAffinity affinity,
    TimeProvider time,
    ILogger<MergedResourceList> logger)
{
    /// <summary>The largest page a client may ask for (Google's lists accept up to 100 or 1000 depending on the collection).</summary>
    public const int MaxPageSize = 1000;

    /// <summary>Upstream calls one page may make, so a page over many keys (or a key paging one item at a time) ends.</summary>
    private const int MaxCallsPerPage = 64;

    private const string VoicesCollection = "voices";

    private readonly FrontendOptions _options = options.Value;

    /// <param name="version">The API version (<c>v1beta</c>, <c>v1</c> or <c>v1alpha</c>).</param>
    /// <param name="collection">The collection listed.</param>
    public Task ListAsync(HttpContext context, string version, string collection) =>
        RunAsync(context, ApiSurface.GeminiNative, collection, () => PageAsync(context, ApiSurface.GeminiNative, version, collection));

    /// <summary>
    /// <c>GET /v1beta/openai/files</c> or <c>batches</c>: OpenAI's list (<c>data</c>, <c>has_more</c>, <c>first_id</c>,
    /// <c>last_id</c>) over the same keys. OpenAI's cursor is the last item's id (<c>after</c>), which the SDKs send back
    /// for the next page; the gateway's records say which key holds it, so the list goes on at that key, then the next.
    /// </summary>
    /// <param name="collection"><c>files</c> or <c>batches</c>.</param>
    public Task ListOpenAiAsync(HttpContext context, string collection) =>
        RunAsync(context, ApiSurface.OpenAi, collection, () => OpenAiPageAsync(context, collection));

    private async Task RunAsync(HttpContext context, ApiSurface surface, string collection, Func<Task<(int Calls, long Bytes)>> page)
    {
        var started = Stopwatch.GetTimestamp();
        var (bytes, calls) = (0L, 0);
        if (!(await clients.AdmitAsync(context, surface, collection)).Admitted)
        {
            Complete(context, surface, collection, started, calls, bytes);
            return;
        }
        try
        {
            (calls, bytes) = await page();
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex) && !context.Response.HasStarted)
        {
            LogRecordsUnreachable(logger, ex, collection);
            bytes = await ClusterUnreachable.AnswerAsync(context, surface, "The gateway's resource records");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest; // the client left mid-list
            }
        }
        Complete(context, surface, collection, started, calls, bytes);
    }

    private async Task<(int Calls, long Bytes)> PageAsync(HttpContext context, ApiSurface surface, string version, string collection)
    {
        var paging = ListPaging.Of(collection);
        var query = context.Request.Query;
        int? pageSize = null;
        if (query[paging.Size].ToString() is { Length: > 0 } sizeText)
        {
            if (!int.TryParse(sizeText, out var size) || size < 0 || size > MaxPageSize)
            {
                return (0, await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                    $"{paging.Size} must be a whole number from 0 to {MaxPageSize}.", googleStatus: "INVALID_ARGUMENT"));
            }
            pageSize = size == 0 ? null : size; // 0 means the default, as in Google's lists
        }
        ListPageToken? token = null;
        if (query[paging.Token].ToString() is { Length: > 0 } tokenText && (token = ListPageToken.Decode(tokenText, collection)) is null)
        {
            return (0, await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                $"{paging.Token} is not one this gateway gave for a list of {collection}: start the list again without it.", googleStatus: "INVALID_ARGUMENT"));
        }

        var steps = await StepsAsync(collection);
        // a key that left the pool since the token was made is passed over: the next in order goes on
        var at = token is null ? 0 : steps.FindIndex(step => step.Catalog == token.Catalog && string.CompareOrdinal(step.Fingerprint, token.Fingerprint) >= 0);
        if (at < 0 && token is { Catalog: false })
        {
            at = steps.FindIndex(step => step.Catalog); // past the last holder: the catalog goes on
        }
        var upstreamToken = token is not null && at >= 0 && steps[at] == new ListStep(token.Fingerprint, token.Catalog) ? token.UpstreamToken : null;
        var items = new List<(string Field, JsonElement[] Values)>();
        using var documents = new DocumentList();
        var remaining = pageSize;
        var calls = 0;
        ListPageToken? next = null;
        var i = at;
        while (i >= 0 && i < steps.Count)
        {
            var step = steps[i];
            if (calls >= MaxCallsPerPage)
            {
                next = new ListPageToken(collection, step.Fingerprint, upstreamToken, step.Catalog); // long enough: the next page goes on from here
                break;
            }
            var (alias, secret, refused) = await LeaseAsync(context, surface, collection, step.Fingerprint);
            if (refused is not null)
            {
                return (calls, refused.Value);
            }
            if (alias is null)
            {
                // invalid or removed: nothing it holds can be reached through the gateway (a catalog falls to the next key)
                (i, upstreamToken) = (i + 1, null);
                continue;
            }
            calls++;
            var answer = await CallAsync(context, surface, $"{version}/{collection}", collection, alias, secret!,
                (paging.Size, remaining?.ToString(CultureInfo.InvariantCulture)), (paging.Token, upstreamToken));
            if (answer.Error is { } error)
            {
                return (calls, error);
            }
            var (count, nextUpstream) = Collect(documents.Add(answer.Document!).RootElement, items, paging.Next, collection == VoicesCollection ? step : null);
            remaining -= count;
            // the catalog is one key's: after its last page the list ends
            var after = nextUpstream is not null ? i : step.Catalog ? steps.Count : i + 1;
            if (remaining <= 0 || pageSize is null && count > 0)
            {
                next = nextUpstream is not null ? new ListPageToken(collection, step.Fingerprint, nextUpstream, step.Catalog)
                    : after < steps.Count ? new ListPageToken(collection, steps[after].Fingerprint, null, steps[after].Catalog)
                    : null;
                break;
            }
            // the rest of the page comes from this key's next page, or from the next key
            (i, upstreamToken) = (after, nextUpstream);
        }
        return (calls, await WritePageAsync(context, items, paging.Next, next));
    }

    private async Task<(int Calls, long Bytes)> OpenAiPageAsync(HttpContext context, string collection)
    {
        var surface = ApiSurface.OpenAi;
        var query = context.Request.Query;
        int? limit = null;
        if (query["limit"].ToString() is { Length: > 0 } limitText)
        {
            if (!int.TryParse(limitText, out var size) || size < 1 || size > MaxPageSize)
            {
                return (0, await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"limit must be a whole number from 1 to {MaxPageSize}."));
            }
            limit = size;
        }
        var holders = await HoldersAsync(collection);
        var (i, after) = (0, (string?)null);
        if (query["after"].ToString() is { Length: > 0 } afterText)
        {
            // the id of the last item the client saw: its key goes on from there
            var name = ResourceNames.FromPath(ResourceNames.OpenAiPath(collection, afterText));
            var owner = name is null ? null : (await affinity.ResolveAsync([name])).Fingerprint;
            if ((i = owner is null ? -1 : holders.IndexOf(owner)) < 0)
            {
                return (0, await surface.WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                    $"after names none of the {collection} this gateway's keys hold: start the list again without it."));
            }
            after = afterText;
        }
        var data = new List<JsonElement>();
        using var documents = new DocumentList();
        var (remaining, calls, more) = (limit, 0, false);
        string? lastHolder = null; // the key the page's last item came from
        while (i < holders.Count)
        {
            if (calls >= MaxCallsPerPage)
            {
                more = data.Count > 0; // long enough: the next page goes on from its last item
                break;
            }
            var (alias, secret, refused) = await LeaseAsync(context, surface, collection, holders[i]);
            if (refused is not null)
            {
                return (calls, refused.Value);
            }
            if (alias is null)
            {
                (i, after) = (i + 1, null);
                continue;
            }
            calls++;
            var answer = await CallAsync(context, surface, $"v1beta/openai/{collection}", collection, alias, secret!,
                ("limit", remaining?.ToString(CultureInfo.InvariantCulture)), ("after", after));
            if (answer.Error is { } error)
            {
                return (calls, error);
            }
            var root = documents.Add(answer.Document!).RootElement;
            var items = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var array) && array.ValueKind == JsonValueKind.Array
                ? array.EnumerateArray().ToArray()
                : [];
            data.AddRange(items);
            remaining -= items.Length;
            lastHolder = items.Length > 0 ? holders[i] : lastHolder;
            var keyHasMore = items.Length > 0 && root.TryGetProperty("has_more", out var hasMore) && hasMore.ValueKind == JsonValueKind.True;
            if (keyHasMore)
            {
                after = IdOf(items[^1]);
                if (remaining <= 0 || limit is null || after is null)
                {
                    more = true;
                    break;
                }
                continue; // the rest of the page from this key's next page
            }
            (i, after) = (i + 1, null);
            if (remaining <= 0 || limit is null && items.Length > 0)
            {
                more = i < holders.Count;
                break;
            }
        }
        // the next page starts after this page's last item, which must lead back to its key: a key lists files the
        // gateway has no record of too (made elsewhere, or whose record expired), so that one is recorded now
        if (more && lastHolder is not null && IdOf(data[^1]) is { } lastId
            && ResourceNames.FromPath(ResourceNames.OpenAiPath(collection, lastId)) is { } lastName)
        {
            await affinity.BindAsync(lastName, lastHolder);
        }
        return (calls, await WriteOpenAiPageAsync(context, data, more));
    }

    private static string? IdOf(JsonElement item) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;

    private static async Task<long> WriteOpenAiPageAsync(HttpContext context, List<JsonElement> data, bool more)
    {
        var buffer = new MemoryStream();
        await using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            data.ForEach(item => item.WriteTo(json));
            json.WriteEndArray();
            json.WriteBoolean("has_more", more);
            json.WriteString("first_id", data.Count > 0 ? IdOf(data[0]) : null);
            json.WriteString("last_id", data.Count > 0 ? IdOf(data[^1]) : null);
            json.WriteEndObject();
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        return buffer.Length;
    }

    /// <summary>The keys that hold any of <paramref name="collection"/> by the gateway's records, in fingerprint order.</summary>
    private async Task<List<string>> HoldersAsync(string collection)
    {
        var held = await counts.ReadAsync(keys.Fingerprints);
        return held.Where(pair => pair.Value.Of(collection) > 0).Select(pair => pair.Key).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The keys a native list asks in turn: the holders; for voices then the catalog, Google's prebuilt voices, which
    /// every key lists after its own custom ones. The catalog is listed by one key, the first in fingerprint order that
    /// can serve, so its upstream page tokens hold from page to page; every pool key is a candidate, in order.
    /// </summary>
    private async Task<List<ListStep>> StepsAsync(string collection)
    {
        var steps = (await HoldersAsync(collection)).Select(fingerprint => new ListStep(fingerprint, Catalog: false)).ToList();
        if (collection == VoicesCollection)
        {
            steps.AddRange(keys.Fingerprints.Order(StringComparer.Ordinal).Select(fingerprint => new ListStep(fingerprint, Catalog: true)));
        }
        return steps;
    }

    /// <summary>
    /// The key of one holder, or null when it can no longer serve (invalid or removed: nothing it holds can be reached
    /// through the gateway), or the 429 already answered when it is cooling: a list without its part would look complete.
    /// </summary>
    private async Task<(KeyAlias? Alias, string? Secret, long? Refused)> LeaseAsync(HttpContext context, ApiSurface surface, string collection, string fingerprint)
    {
        var lease = await pool.Reference.LeaseKeyAsync(collection, fingerprint);
        if (lease.Keys.Length == 0 && lease.RetryAt is { } retryAt && !lease.AllInvalid)
        {
            var wait = retryAt - time.GetUtcNow();
            return (null, null, await surface.WriteErrorAsync(context, StatusCodes.Status429TooManyRequests,
                $"An upstream key that holds {collection} of this list is cooling down; retry in {Math.Ceiling(Math.Max(wait.TotalSeconds, 1))} s.", wait));
        }
        return lease.Keys.Length > 0 && keys.TryGetSecret(lease.Keys[0], out var secret) ? (lease.Keys[0], secret, null) : (null, null, null);
    }

    /// <summary>One key's page of the collection, or the error answer already written to the client.</summary>
    /// <param name="listPath">The list's path upstream after the base URL, e.g. <c>v1beta/files</c>.</param>
    /// <param name="size">The page size parameter and its value (none: upstream's default).</param>
    /// <param name="cursor">The paging parameter and its value (none: the first page).</param>
    private async Task<(JsonDocument? Document, long? Error)> CallAsync(HttpContext context, ApiSurface surface, string listPath, string collection,
        KeyAlias alias, string secret, (string Name, string? Value) size, (string Name, string? Value) cursor)
    {
        var path = new StringBuilder(_options.BaseUri.ToString().TrimEnd('/')).Append('/').Append(listPath);
        var separator = '?';
        foreach (var (name, values) in context.Request.Query)
        {
            if (name == size.Name || name == cursor.Name || string.Equals(name, "key", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            foreach (var value in values)
            {
                path.Append(separator).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
                separator = '&';
            }
        }
        foreach (var (name, value) in (ReadOnlySpan<(string, string?)>)[size, cursor])
        {
            if (value is not null)
            {
                path.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value));
                separator = '&';
            }
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, path.ToString());
        surface.Authorize(request, secret);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(_options.UpstreamTimeout);
        HttpResponseMessage response;
        byte[] body;
        try
        {
            response = await upstream.SendAsync(request, deadline.Token);
            body = await response.Content.ReadAsByteArrayAsync(deadline.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            LogListCallFailed(logger, ex, alias.Index, collection);
            Report(alias, collection, UpstreamErrorClassifier.ConnectionFailed());
            return (null, await surface.WriteErrorAsync(context, StatusCodes.Status502BadGateway,
                $"Upstream did not answer the list of {collection}; retry shortly."));
        }
        using (response)
        {
            var classification = UpstreamErrorClassifier.Classify((int)response.StatusCode, body);
            Report(alias, collection, classification);
            if (classification.Outcome == UpstreamOutcome.Success)
            {
                try
                {
                    return (JsonDocument.Parse(body), null);
                }
                catch (JsonException)
                {
                    return (null, await surface.WriteErrorAsync(context, StatusCodes.Status502BadGateway, $"Upstream answered the list of {collection} with something other than JSON."));
                }
            }
            // one key's refusal ends the page: a partial list would look complete
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json; charset=utf-8";
            if (response.Headers.RetryAfter is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = retryAfter.ToString();
            }
            var masked = surface.AdaptUpstreamError(keys.MaskSecrets(body));
            await context.Response.Body.WriteAsync(masked);
            return (null, masked.Length);
        }
    }

    /// <summary>
    /// Appends the answer's arrays (files, cachedContents, operations, ...) to the page; returns their items and the key's
    /// next token. A voices list keeps what its <paramref name="voices"/> step lists: a holder's custom voices, which
    /// Google lists first (its first prebuilt voice ends them), or the catalog key's prebuilt ones.
    /// </summary>
    private static (int Count, string? Next) Collect(JsonElement root, List<(string Field, JsonElement[] Values)> items, string nextField, ListStep? voices)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (0, null);
        }
        var count = 0;
        string? next = null;
        var customEnded = false;
        foreach (var property in root.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Array)
            {
                var values = property.Value.EnumerateArray().ToArray();
                if (voices is { } step)
                {
                    customEnded |= !step.Catalog && values.Any(IsPrebuiltVoice);
                    values = [.. values.Where(value => IsPrebuiltVoice(value) == step.Catalog)];
                }
                items.Add((property.Name, values));
                count += values.Length;
            }
            else if (property.Name == nextField && property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() is { Length: > 0 } token)
            {
                next = token;
            }
        }
        return (count, customEnded ? null : next);
    }

    private static bool IsPrebuiltVoice(JsonElement voice) =>
        voice.ValueKind == JsonValueKind.Object && voice.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
        && type.ValueEquals("prebuilt");

    private static async Task<long> WritePageAsync(HttpContext context, List<(string Field, JsonElement[] Values)> items, string nextField, ListPageToken? next)
    {
        var buffer = new MemoryStream();
        await using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var field in items.Select(item => item.Field).Distinct(StringComparer.Ordinal))
            {
                json.WriteStartArray(field);
                foreach (var value in items.Where(item => item.Field == field).SelectMany(item => item.Values))
                {
                    value.WriteTo(json);
                }
                json.WriteEndArray();
            }
            if (next is not null)
            {
                json.WriteString(nextField, next.Encode());
            }
            json.WriteEndObject();
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        return buffer.Length;
    }

    private void Report(KeyAlias alias, string collection, UpstreamClassification classification)
    {
        metrics.AttemptCompleted(alias, classification.Outcome, null, collection);
        var report = new AttemptReport(alias, collection, classification.Outcome, classification.RetryDelay, classification.Reason);
        if (classification.Outcome.ChangesKeyState())
        {
            _ = PenalizeAsync(report); // the client gets upstream's answer now; the pool hears of the key's state beside it
        }
        else
        {
            reporter.Report(report);
        }
    }

    private async Task PenalizeAsync(AttemptReport report)
    {
        try
        {
            await pool.Reference.PenalizeAsync(report);
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            LogPenaltyNotReported(logger, ex, report.Key.Index, report.Model);
        }
    }

    private void Complete(HttpContext context, ApiSurface surface, string collection, long started, int calls, long bytes)
    {
        var status = context.Response.StatusCode;
        var client = ClientRequest.Of(context);
        if (client is not null)
        {
            clients.Complete(client, status);
        }
        var clientName = client?.Client.Name ?? ClientPolicy.UnnamedName;
        metrics.RequestCompleted(surface.Name, collection, status, started, clientName);
        requestLog.Completed(context.TraceIdentifier, clientName, surface.Name, collection, false, -1, calls, status,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds, 0, bytes);
    }

    /// <summary>One key a native list asks: a holder of the collection, or (voices) the key that lists the catalog.</summary>
    private readonly record struct ListStep(string Fingerprint, bool Catalog);

    /// <summary>The pages of one merged list, alive until it is written.</summary>
    private sealed class DocumentList : IDisposable
    {
        private readonly List<JsonDocument> _documents = [];

        public JsonDocument Add(JsonDocument document)
        {
            _documents.Add(document);
            return document;
        }

        public void Dispose() => _documents.ForEach(document => document.Dispose());
    }

    [LoggerMessage(EventId = 3410, Level = LogLevel.Warning, Message = "The resource records for a list of {Collection} are not reachable; answered 503")]
    private static partial void LogRecordsUnreachable(ILogger logger, Exception exception, string collection);

    [LoggerMessage(EventId = 3411, Level = LogLevel.Warning, Message = "Key #{KeyIndex} did not answer a list of {Collection}")]
    private static partial void LogListCallFailed(ILogger logger, Exception exception, int keyIndex, string collection);

    [LoggerMessage(EventId = 3412, Level = LogLevel.Warning, Message = "The pool was not told that key #{KeyIndex} failed a list of {Collection}")]
    private static partial void LogPenaltyNotReported(ILogger logger, Exception exception, int keyIndex, string collection);
}
