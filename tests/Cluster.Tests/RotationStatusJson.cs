using System.Text.Json;

namespace GeminiParty.Cluster.Tests;

/// <summary>Reads the parts of a <c>/rotation-status</c> answer the tests compare.</summary>
public static class RotationStatusJson
{
    public static JsonElement Key(this JsonElement status, int key) => status.GetProperty("data").GetProperty("keys")[key];

    /// <summary>A counter of <c>data.keys[key].models[model]</c> (attempts, successes, rateLimited...), 0 when absent.</summary>
    public static long Counter(this JsonElement status, int key, string model, string counter) =>
        status.Key(key).GetProperty("models").TryGetProperty(model, out var counters) ? counters.GetProperty(counter).GetInt64() : 0;

    public static long Total(this JsonElement status, string model, string counter) =>
        Enumerable.Range(0, status.GetProperty("data").GetProperty("keys").GetArrayLength()).Sum(key => status.Counter(key, model, counter));

    /// <summary>Every key's counters for one model, as comparable text.</summary>
    public static string CountersFor(this JsonElement status, string model) =>
        string.Join(" | ", status.GetProperty("data").GetProperty("keys").EnumerateArray().Select(key =>
            key.GetProperty("models").TryGetProperty(model, out var counters) ? counters.GetRawText() : "-"));

    public static DateTimeOffset? CooldownUntil(this JsonElement status, int key, string model) =>
        status.Key(key).GetProperty("cooldowns").EnumerateArray()
            .Where(cooldown => cooldown.GetProperty("model").GetString() == model)
            .Select(cooldown => (DateTimeOffset?)cooldown.GetProperty("until").GetDateTimeOffset())
            .FirstOrDefault();

    public static bool IsInvalid(this JsonElement status, int key) => status.Key(key).GetProperty("invalid").ValueKind == JsonValueKind.Object;

    public static string Fingerprint(this JsonElement status, int key) => status.Key(key).GetProperty("fingerprint").GetString()!;

    /// <summary><c>data.cluster.poolSilo</c>: the Orleans address of the silo running the pool grain.</summary>
    public static string PoolSilo(this JsonElement status) =>
        status.GetProperty("data").GetProperty("cluster").GetProperty("poolSilo").GetString() ?? "";
}
