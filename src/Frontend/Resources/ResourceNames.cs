using System.Text;
using System.Text.Json;

namespace GeminiParty.Frontend.Resources;

/// <summary>
/// Finds the names of key-bound resources in a request's path, in its body, or in an answer, spelled as upstream spells
/// them (<c>files/abc</c>, <c>cachedContents/x</c>, <c>batches/y</c>, <c>operations/z</c>, <c>models/m/operations/z</c>,
/// <c>fileSearchStores/s</c>, <c>voices/voice_v</c>). A store's documents and operations belong to the store's key, so they
/// resolve to it. A custom voice is named by its bare id (<c>voice_v</c>) where a request uses it.
/// </summary>
public static class ResourceNames
{
    private static readonly IReadOnlyList<string> Collections = ResourceCounts.Collections;

    /// <summary>
    /// Byte strings one of which a body must contain to name a resource: a body without any pays one scan, no parse. A
    /// voice is named only by an id that starts <c>voice_</c> (bare, or as <c>voices/voice_…</c>): that is its one marker.
    /// </summary>
    private static readonly byte[][] Markers =
        [.. Collections.Where(collection => collection != "voices").Select(collection => Encoding.UTF8.GetBytes(collection + "/")), "voice_"u8.ToArray()];

    /// <summary>How the id of a custom voice stored by Google begins (prebuilt voices are names such as <c>Puck</c>).</summary>
    private const string VoiceIdPrefix = "voice_";

    /// <summary>The most names one body may bind to (beyond it the request is refused rather than resolved one by one).</summary>
    public const int MaxNamesPerRequest = 64;

    /// <summary>
    /// The resource a route path (after the API version, e.g. <c>files/abc:download</c>, <c>batches/x:cancel</c>,
    /// <c>fileSearchStores/s/documents/d</c>) is about, or null for a collection (a list or a create).
    /// </summary>
    public static string? FromPath(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length >= 4 && segments[0] == "models" && segments[2] == "operations")
        {
            return $"models/{segments[1]}/operations/{StripMethod(segments[3])}";
        }
        if (segments.Length >= 2 && Collections.Contains(segments[0]))
        {
            var id = StripMethod(segments[1]);
            return id.Length == 0 ? null : $"{segments[0]}/{id}";
        }
        return null;
    }

    /// <summary>
    /// The resource path of an OpenAI-compatible files or batches route, or of a list's <c>after</c>. Google's OpenAI
    /// ids are its resource names (<c>files/abc</c>, <c>batches/xyz</c>), so an id in a path carries the collection
    /// again: escaped by the <c>openai</c> and OpenAI .NET SDKs (<c>files/files%2Fabc/content</c>), as it is by a
    /// client that pastes it (<c>files/files/abc</c>), or bare (<c>files/abc</c>). Each names <c>files/abc</c>.
    /// </summary>
    public static string OpenAiPath(string collection, string rest)
    {
        var path = rest.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        return path.StartsWith(collection + "/", StringComparison.Ordinal) ? path : $"{collection}/{path}";
    }

    /// <summary>
    /// A resource name in one string value: the name itself, or a full URI that contains it
    /// (<c>https://generativelanguage.googleapis.com/v1beta/files/abc</c>, also behind any gateway prefix).
    /// </summary>
    public static string? FromValue(string value)
    {
        if (value.Length > 2048)
        {
            return null;
        }
        var path = value;
        if (value.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri))
            {
                return null;
            }
            path = uri.AbsolutePath;
            foreach (var collection in Collections)
            {
                var at = path.IndexOf("/" + collection + "/", StringComparison.Ordinal);
                if (at >= 0)
                {
                    var models = path.LastIndexOf("/models/", at, StringComparison.Ordinal);
                    path = collection == "operations" && models >= 0 ? path[(models + 1)..] : path[(at + 1)..];
                    break;
                }
            }
        }
        if (path.Length == 0 || !char.IsAsciiLetterLower(path[0]) || path.Contains(' ', StringComparison.Ordinal))
        {
            return null;
        }
        var segments = path.Split('/');
        var name = segments.Length is 2 or 4 or 5 || (segments.Length >= 3 && segments[0] == "fileSearchStores") ? FromPath(path) : null;
        return name is not null && IsId(name[(name.LastIndexOf('/') + 1)..])
            && (!name.StartsWith("voices/", StringComparison.Ordinal) || Voice(name["voices/".Length..]) is not null) ? name : null;
    }

    /// <summary>
    /// Every resource named by a string value anywhere in a JSON body (<c>fileData.fileUri</c>, <c>file_data.file_uri</c>,
    /// <c>cachedContent</c>, <c>fileSearchStoreNames</c>, a batch's input file, an OpenAI part's URL, ...), and the custom
    /// voice a <c>voice</c> or <c>base_voice</c> property names by its id. A body that contains none of the collection
    /// names (nor a voice id) is not parsed at all.
    /// </summary>
    public static IReadOnlyList<string> InBody(ReadOnlySpan<byte> body)
    {
        if (!MayName(body))
        {
            return [];
        }
        var names = new List<string>();
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256, CommentHandling = JsonCommentHandling.Skip });
            var voiceProperty = false;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    // a bare voice id is a voice only where a voice is expected: "voice_x" in a prompt's text is text
                    voiceProperty = reader.ValueTextEquals("voice"u8) || reader.ValueTextEquals("base_voice"u8);
                    continue;
                }
                if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length < 2048 && TextOf(ref reader) is { } value
                    && (FromValue(value) ?? (voiceProperty ? Voice(value) : null)) is { } name
                    && !names.Contains(name))
                {
                    names.Add(name);
                }
                voiceProperty = false;
            }
        }
        catch (JsonException)
        {
            // not JSON (a compressed or multipart body): what was read so far is all the gateway can know
        }
        return names;
    }

    /// <summary>A string value, or null for one that is not text (bytes that are not UTF-8, an escaped lone surrogate): it names nothing.</summary>
    private static string? TextOf(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="body"/> contains a collection name or a voice id at all (a cheap scan, no parse).</summary>
    public static bool MayName(ReadOnlySpan<byte> body)
    {
        foreach (var marker in Markers)
        {
            if (body.IndexOf(marker) >= 0)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The name an interaction is bound under, <c>interactions/{id}</c> (Google names interactions by a bare id); null
    /// for a value that is not an id.
    /// </summary>
    public static string? Interaction(string? id) => id is not null && IsId(id) ? "interactions/" + id : null;

    /// <summary>
    /// The name a custom voice stored by Google is bound under, <c>voices/voice_…</c>, from its bare id (<c>voice_…</c>)
    /// or its name; null for anything else (a prebuilt voice such as <c>Puck</c>, a client-held <c>voicekey_…</c>).
    /// </summary>
    public static string? Voice(string? id)
    {
        if (id is not null && id.StartsWith("voices/", StringComparison.Ordinal))
        {
            id = id["voices/".Length..];
        }
        return id is not null && id.Length > VoiceIdPrefix.Length && id.StartsWith(VoiceIdPrefix, StringComparison.Ordinal) && IsId(id)
            ? "voices/" + id
            : null;
    }

    /// <summary>
    /// The interaction an answer is: the top-level <c>id</c> of an interaction object, or in a stream the
    /// <c>interaction.id</c> (or <c>interaction_id</c>) of its first event. Null when it names none.
    /// </summary>
    public static string? InteractionInAnswer(ReadOnlySpan<byte> answer) => Interaction(IdInAnswer(answer));

    /// <summary>The custom voice an answer is (a create's or a get's): its top-level <c>id</c> when that is a voice id.</summary>
    public static string? VoiceInAnswer(ReadOnlySpan<byte> answer) => Voice(IdInAnswer(answer));

    /// <summary>
    /// The bare <c>id</c> an answer's object carries at its top level, or in a stream the <c>interaction.id</c> (or
    /// <c>interaction_id</c>) of its first event: Google names interactions and custom voices by such ids.
    /// </summary>
    private static string? IdInAnswer(ReadOnlySpan<byte> answer)
    {
        var json = answer.TrimStart(" \t\r\n"u8);
        if (!json.IsEmpty && json[0] != (byte)'{')
        {
            // an event stream: the first event's data line
            var data = json.IndexOf("data:"u8);
            if (data < 0)
            {
                return null;
            }
            json = json[(data + 5)..];
            var end = json.IndexOfAny((byte)'\r', (byte)'\n');
            json = end < 0 ? json : json[..end];
        }
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8) || reader.ValueTextEquals("interaction_id"u8);
                var isInteraction = !isId && reader.ValueTextEquals("interaction"u8);
                reader.Read();
                if (isId && reader.TokenType == JsonTokenType.String)
                {
                    return reader.GetString();
                }
                if (isInteraction && reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isInnerId = reader.ValueTextEquals("id"u8);
                        reader.Read();
                        if (isInnerId && reader.TokenType == JsonTokenType.String)
                        {
                            return reader.GetString();
                        }
                        reader.Skip();
                    }
                    return null;
                }
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // an answer cut short of its id (larger than what is held): nothing to bind
        }
        return null;
    }

    /// <summary>The kind of resource, for messages: "file", "cached content", ...</summary>
    public static string Describe(string name) => name switch
    {
        _ when name.StartsWith("files/", StringComparison.Ordinal) => "file",
        _ when name.StartsWith("cachedContents/", StringComparison.Ordinal) => "cached content",
        _ when name.StartsWith("batches/", StringComparison.Ordinal) => "batch",
        _ when name.StartsWith("fileSearchStores/", StringComparison.Ordinal) => "File Search store",
        _ when name.StartsWith("uploads/", StringComparison.Ordinal) => "upload",
        _ when name.StartsWith("interactions/", StringComparison.Ordinal) => "interaction",
        _ when name.StartsWith("voices/", StringComparison.Ordinal) => "voice",
        _ => "operation",
    };

    private static string StripMethod(string segment)
    {
        var colon = segment.IndexOf(':');
        return colon < 0 ? segment : segment[..colon];
    }

    private static bool IsId(string id) =>
        id.Length is > 0 and <= 128 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
