using System.Text.Json;
using System.Text.Json.Nodes;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// MODEL_FALLBACKS: chains of models separated by commas, the models of a chain by <c>&gt;</c>
/// (<c>gemini-2.5-pro&gt;gemini-2.5-flash,gemini-2.0-flash&gt;gemini-2.0-flash-lite</c>). A request for a model whose
/// keys all cool and are not back within its wait is sent for the next model of its chain instead: in the path for
/// native calls, in the body's <c>model</c> for OpenAI ones (the body is rewritten only then).
/// </summary>
public sealed class ModelFallbacks
{
    /// <summary>A request with this header set to <c>off</c> is never moved to another model.</summary>
    public const string OptOutHeader = "x-gemini-party-fallback";

    /// <summary>On answers for a model of a chain: the model that served it.</summary>
    public const string ServedModelHeader = "x-gemini-party-served-model";

    private readonly Dictionary<string, string> _next;
    private readonly HashSet<string> _chained;
    private readonly long _bodyLimit;

    public ModelFallbacks(IOptions<FrontendOptions> options)
    {
        _next = Parse(options.Value.ModelFallbacks, out var error) ?? throw new InvalidOperationException(error);
        _chained = new HashSet<string>(_next.Keys.Concat(_next.Values), StringComparer.Ordinal);
        _bodyLimit = options.Value.MaxRequestBodyBytes;
    }

    /// <summary>Whether any chain is configured.</summary>
    public bool Enabled => _next.Count > 0;

    /// <summary>Whether <paramref name="model"/> is in a chain: its answers say which model served them.</summary>
    public bool IsChained(string model) => _chained.Contains(model);

    /// <summary>
    /// The model after each model of every chain; null with <paramref name="error"/> saying what to fix when the value is
    /// not well formed (a chain of one model, an invalid name, a model that leads two chains, a loop).
    /// </summary>
    public static Dictionary<string, string>? Parse(string? value, out string? error)
    {
        error = null;
        var next = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(value))
        {
            return next;
        }
        foreach (var chain in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var models = chain.Split('>', StringSplitOptions.TrimEntries);
            if (models.Length < 2)
            {
                error = $"chain '{chain}' names one model: give at least two, the first served first, separated by '>'";
                return null;
            }
            for (var i = 0; i < models.Length; i++)
            {
                if (!ModelName.TryNormalize(models[i], out var name))
                {
                    error = $"'{models[i]}' in chain '{chain}' is not a model name (letters, digits, '.', '-', '_')";
                    return null;
                }
                models[i] = name;
            }
            for (var i = 0; i < models.Length - 1; i++)
            {
                if (!next.TryAdd(models[i], models[i + 1]) && next[models[i]] != models[i + 1])
                {
                    error = $"'{models[i]}' falls back to both '{next[models[i]]}' and '{models[i + 1]}': give each model one next model";
                    return null;
                }
            }
        }
        foreach (var start in next.Keys)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal) { start };
            for (var model = start; next.TryGetValue(model, out var after); model = after)
            {
                if (!seen.Add(after))
                {
                    error = $"the chains loop back to '{after}': a model may not fall back to itself";
                    return null;
                }
            }
        }
        return next;
    }

    /// <summary>
    /// The call for the next model of <paramref name="call"/>'s chain, or null: no next model, the client opted out, or
    /// the call does not name its model where it can be changed (a multipart form, a list, a resource's route).
    /// </summary>
    public UpstreamCall? Next(UpstreamCall call, HttpRequest request)
    {
        if (call.ModelIn == ModelPlace.None || !_next.TryGetValue(call.Model, out var next)
            || string.Equals(request.Headers[OptOutHeader].ToString().Trim(), "off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (call.ModelIn == ModelPlace.Path)
        {
            var from = $"models/{call.Model}:";
            var at = call.PathAndQuery.IndexOf(from, StringComparison.Ordinal);
            return at < 0 ? null : call with
            {
                Model = next,
                PathAndQuery = string.Concat(call.PathAndQuery.AsSpan(0, at), $"models/{next}:", call.PathAndQuery.AsSpan(at + from.Length)),
            };
        }
        // the client's bytes go upstream untouched unless the model changes: then its JSON is parsed and written again
        var json = call.BodyRewritten ? call.Body : RequestBodyDecoder.Decoded(request, call.Body, _bodyLimit);
        JsonObject? body;
        try
        {
            body = JsonNode.Parse(json.Span) as JsonObject;
        }
        catch (JsonException)
        {
            return null; // read forward-only for its model before, never parsed whole: upstream answers for the model asked
        }
        if (body is null)
        {
            return null;
        }
        body["model"] = next;
        return call with
        {
            Model = next,
            Body = JsonSerializer.SerializeToUtf8Bytes(body),
            BodyRewritten = call.BodyRewritten || RequestBodyDecoder.IsEncoded(request),
        };
    }
}
