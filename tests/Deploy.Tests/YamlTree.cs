using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace GeminiParty.Deploy.Tests;

/// <summary>
/// YAML read as plain trees (mappings, lists, strings), with anchors and merge keys (`&lt;&lt;: *x`) resolved the way
/// docker compose resolves them, plus null-tolerant accessors so a check reads as a path.
/// </summary>
internal static class YamlTree
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    public static IReadOnlyList<Dictionary<object, object?>> LoadAll(string yaml)
    {
        var parser = new MergingParser(new Parser(new StringReader(yaml)));
        var documents = new List<Dictionary<object, object?>>();
        parser.Consume<StreamStart>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (Deserializer.Deserialize<Dictionary<object, object?>?>(parser) is { } document)
            {
                documents.Add(document);
            }
        }

        return documents;
    }

    public static Dictionary<object, object?> Load(string yaml) =>
        LoadAll(yaml) is [var single] ? single : throw new InvalidDataException("expected exactly one YAML document");

    public static object? Get(this object? node, string key) =>
        node is IDictionary<object, object?> map && map.TryGetValue(key, out var value) ? value : null;

    /// <summary>Follows a dotted path of mapping keys: <c>spec.template.spec</c>.</summary>
    public static object? At(this object? node, string path) =>
        path.Split('.').Aggregate(node, (current, key) => current.Get(key));

    public static Dictionary<object, object?>? Map(this object? node, string path) =>
        node.At(path) as Dictionary<object, object?>;

    public static IReadOnlyList<object?> Seq(this object? node, string path) =>
        node.At(path) as List<object?> ?? [];

    public static string? Str(this object? node, string path) => node.At(path) switch
    {
        null => null,
        string s => s,
        var other => Convert.ToString(other, CultureInfo.InvariantCulture),
    };

    public static int? Int(this object? node, string path) =>
        int.TryParse(node.Str(path), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static IReadOnlyList<string> Strings(this object? node, string path) =>
        node.Seq(path).Select(item => Convert.ToString(item, CultureInfo.InvariantCulture) ?? "").ToList();

    /// <summary>A string-keyed copy of a mapping of scalars (labels, selectors, compose environment maps).</summary>
    public static IReadOnlyDictionary<string, string> StringMap(this object? node, string path) =>
        node.Map(path)?.ToDictionary(
            pair => Convert.ToString(pair.Key, CultureInfo.InvariantCulture) ?? "",
            pair => Convert.ToString(pair.Value, CultureInfo.InvariantCulture) ?? "")
        ?? new Dictionary<string, string>();
}
