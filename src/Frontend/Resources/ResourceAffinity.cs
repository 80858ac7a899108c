using System.Text.Json;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Resources;

/// <summary>
/// The frontend's side of resource affinity: which key owns the resources a request names (one grain call per name,
/// and none for a request that names nothing), and recording the key that made a resource from upstream's answer.
/// </summary>
public sealed partial class ResourceAffinity(IGrainFactory grains, TimeProvider time, ILogger<ResourceAffinity> logger)
{
    public async Task<ResourceOwner> ResolveAsync(IReadOnlyList<string> names)
    {
        if (names.Count == 0)
        {
            return ResourceOwner.None;
        }
        var bindings = await Task.WhenAll(names.Select(name => Record(name).GetAsync().AsTask()));
        var owners = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            if (bindings[i] is { } binding)
            {
                (owners.TryGetValue(binding.Fingerprint, out var list) ? list : owners[binding.Fingerprint] = []).Add(names[i]);
            }
        }
        return owners.Count switch
        {
            0 => new ResourceOwner(names, null),
            1 => new ResourceOwner(names, owners.Keys.First()),
            _ => new ResourceOwner(names, null, string.Join("; ", owners.Values.Select((list, i) => $"upstream key {i + 1}: {string.Join(", ", list)}"))),
        };
    }

    /// <summary>
    /// Records <paramref name="fingerprint"/> as the owner of <paramref name="name"/>. Never throws: the resource exists
    /// upstream already, and failing its answer would make the client make it again with another key.
    /// </summary>
    public async Task BindAsync(string name, string fingerprint, JsonElement? answer = null)
    {
        try
        {
            await Record(name).BindAsync(new ResourceBinding(fingerprint, ResourceExpiry.For(name, time.GetUtcNow(), answer)));
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            LogBindFailed(logger, ex, name);
        }
        catch (Exception ex)
        {
            LogBindBroke(logger, ex, name); // storage or a bug: logged as an error, and the client still gets its answer
        }
    }

    /// <summary>
    /// Records the key of every resource an answer names: a create's <c>name</c> (or an upload's <c>file.name</c>, a
    /// custom voice's <c>id</c>), and names inside it (a finished video operation's file, a batch's results file). The answer's own subject keeps the
    /// expiry its kind has; names it merely mentions get theirs.
    /// </summary>
    public async Task RecordAnswerAsync(ReadOnlyMemory<byte> answer, string fingerprint)
    {
        if (answer.IsEmpty || !ResourceNames.MayName(answer.Span))
        {
            return;
        }
        JsonElement? root = null;
        try
        {
            using var document = JsonDocument.Parse(answer);
            var element = document.RootElement;
            if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("file", out var file) && file.ValueKind == JsonValueKind.Object)
            {
                element = file; // an upload's finalize answer
            }
            root = element.Clone();
        }
        catch (JsonException)
        {
            return;
        }
        var names = ResourceNames.InBody(answer.Span);
        // a custom voice is named by a bare id, the answer's own subject
        var voice = ResourceNames.VoiceInAnswer(answer.Span);
        if (voice is not null)
        {
            await BindAsync(voice, fingerprint, root);
        }
        foreach (var name in names.Where(name => name != voice).Take(ResourceNames.MaxNamesPerRequest))
        {
            var own = root is { ValueKind: JsonValueKind.Object } r && r.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                && ResourceNames.FromValue(n.GetString()!) == name;
            await BindAsync(name, fingerprint, own ? root : null);
        }
    }

    /// <summary>Records the key of the interaction an answer is (a create's, in a stream its first event's; a get's).</summary>
    public Task RecordInteractionAsync(ReadOnlyMemory<byte> answer, string fingerprint) =>
        ResourceNames.InteractionInAnswer(answer.Span) is { } name ? BindAsync(name, fingerprint) : Task.CompletedTask;

    /// <summary>Forgets a resource deleted upstream.</summary>
    public async Task ForgetAsync(string name)
    {
        try
        {
            await Record(name).ForgetAsync();
        }
        catch (Exception ex) when (ClusterUnreachable.Is(ex))
        {
            LogBindFailed(logger, ex, name);
        }
    }

    /// <summary>The grain that holds the record of <paramref name="name"/> (an interaction's is of a type of its own).</summary>
    private IResourceGrain Record(string name) => grains.GetGrain<IResourceGrain>(IResourceGrain.RecordOf(name));

    [LoggerMessage(EventId = 3400, Level = LogLevel.Warning, Message = "The owner of {Resource} could not be recorded; later requests naming it rotate")]
    private static partial void LogBindFailed(ILogger logger, Exception exception, string resource);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Error, Message = "Recording the owner of {Resource} failed; the answer went on, and later requests naming it rotate")]
    private static partial void LogBindBroke(ILogger logger, Exception exception, string resource);
}
