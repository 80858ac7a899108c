using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace GeminiParty.FakeGemini;

/// <summary>
/// The resources the fake holds (interactions among them), each owned by the API key that made it, as Google's are by
/// the key's project: another key that names one gets 403 PERMISSION_DENIED with no key reason.
/// </summary>
internal sealed partial class FakeResources
{
    private readonly ConcurrentDictionary<string, FakeResource> _resources = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeUpload> _uploads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeInteraction> _interactions = new(StringComparer.Ordinal);

    public FakeResource Add(string name, string owner, string kind, byte[]? content = null, string? mimeType = null, string? inputFile = null,
        string? displayName = null)
    {
        var resource = new FakeResource(name, owner, kind, content, mimeType, inputFile) { DisplayName = displayName };
        return Add(resource);
    }

    public FakeResource Add(FakeResource resource)
    {
        _resources[resource.Name] = resource;
        return resource;
    }

    public FakeResource? Find(string name) => _resources.GetValueOrDefault(name);

    public bool Remove(string name) => _resources.TryRemove(name, out _);

    public IEnumerable<FakeResource> OwnedBy(string owner, string kind) =>
        _resources.Values.Where(r => r.Owner == owner && r.Kind == kind).OrderBy(r => r.Name, StringComparer.Ordinal);

    public FakeUpload StartUpload(string owner, string? mimeType, string? displayName)
    {
        var upload = new FakeUpload(Guid.NewGuid().ToString("N"), owner, mimeType, displayName);
        _uploads[upload.Id] = upload;
        return upload;
    }

    public FakeUpload? FindUpload(string id) => _uploads.GetValueOrDefault(id);

    public void AddInteraction(FakeInteraction interaction) => _interactions[interaction.Id] = interaction;

    public FakeInteraction? FindInteraction(string id) => _interactions.GetValueOrDefault(id);

    public bool RemoveInteraction(string id) => _interactions.TryRemove(id, out _);

    /// <summary>
    /// Resource names a request body mentions (<c>files/x</c>, <c>cachedContents/x</c>, <c>fileSearchStores/x</c>), and
    /// the custom voices its <c>voice</c> or <c>base_voice</c> names by id (<c>voices/voice_x</c>).
    /// </summary>
    public static IEnumerable<string> NamedIn(string body) =>
        NamePattern().Matches(body).Select(m => m.Groups[1].Value + "/" + m.Groups[2].Value)
            .Concat(VoicePattern().Matches(body).Select(m => "voices/" + m.Groups[1].Value))
            .Distinct();

    /// <summary>The first resource <paramref name="body"/> names that <paramref name="key"/> may not use, or null.</summary>
    public string? ForeignIn(string body, string key) =>
        NamedIn(body).FirstOrDefault(name => Find(name)?.Owner != key);

    [GeneratedRegex("(files|cachedContents|fileSearchStores)/([a-z0-9][a-z0-9-]{0,62})")]
    private static partial Regex NamePattern();

    [GeneratedRegex("\"(?:voice|base_voice)\"\\s*:\\s*\"(?:voices/)?(voice_[A-Za-z0-9_-]{1,64})\"")]
    private static partial Regex VoicePattern();
}

/// <summary>One resource and its owner; <see cref="Polls"/> counts the gets of a batch or operation (done on the second).</summary>
internal sealed class FakeResource(string name, string owner, string kind, byte[]? content, string? mimeType, string? inputFile)
{
    public string Name { get; } = name;
    public string Owner { get; } = owner;
    public string Kind { get; } = kind;
    public byte[]? Content { get; } = content;
    public string? MimeType { get; } = mimeType;
    public string? InputFile { get; } = inputFile;
    public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;
    public int Polls;
    public string? Output { get; set; }
    public string? DisplayName { get; init; }

    /// <summary>A cache's expiry, set by its create's <c>ttl</c> or <c>expireTime</c> and moved by an update.</summary>
    public DateTimeOffset? ExpireTime { get; set; }

    /// <summary>A batch's kind: <c>GenerateContentBatch</c> or <c>EmbedContentBatch</c>.</summary>
    public string? BatchType { get; init; }

    /// <summary>A batch cancelled with <c>:cancel</c> before it finished.</summary>
    public bool Cancelled { get; set; }

    /// <summary>The OpenAI files API's purpose (<c>batch</c>, <c>batch_output</c>); null for a file made natively.</summary>
    public string? Purpose { get; init; }

    /// <summary>Set on a batch made through <c>/v1beta/openai/batches</c>: the request and status that API shows.</summary>
    public FakeOpenAiBatch? OpenAiBatch { get; init; }
}

/// <summary>A resumable upload session: bytes received so far, in order.</summary>
internal sealed class FakeUpload(string id, string owner, string? mimeType, string? displayName)
{
    public string Id { get; } = id;
    public string Owner { get; } = owner;
    public string? MimeType { get; } = mimeType;
    public string? DisplayName { get; } = displayName;
    public MemoryStream Received { get; } = new();
    public int Chunks;
    public string? File { get; set; }
}
