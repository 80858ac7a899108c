using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>Reads which surface, model and method a request path addresses.</summary>
internal static class ApiPaths
{
    public const string OpenAiPrefix = "/v1beta/openai";
    private static readonly string[] NativePrefixes = ["/v1beta/", "/v1/", "/v1alpha/", "/upload/v1beta/", "/download/v1beta/"];

    public static string? SurfaceOf(string path)
    {
        if (path.StartsWith(OpenAiPrefix + "/", StringComparison.Ordinal))
        {
            return FakeCall.OpenAi;
        }

        foreach (var prefix in NativePrefixes)
        {
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                return FakeCall.Native;
            }
        }

        return null;
    }

    /// <summary>
    /// Native paths look like <c>/v1beta/models/{model}:{method}</c>; clients that were handed
    /// "models/gemini-x" sometimes produce <c>/v1beta/models/models/gemini-x:{method}</c>, accepted too.
    /// </summary>
    public static void DescribeNative(string path, FakeCall call)
    {
        var rest = path.AsSpan(path.IndexOf('/', 1) + 1);
        if (rest.SequenceEqual("interactions"))
        {
            DescribeInteractionCreate(call);
            return;
        }

        if (!rest.StartsWith("models/"))
        {
            return;
        }

        rest = StripModelsPrefix(rest["models/".Length..]);
        var colon = rest.LastIndexOf(':');
        if (colon >= 0)
        {
            call.Method = rest[(colon + 1)..].ToString();
            rest = rest[..colon];
        }

        call.Model = rest.ToString();
        call.IsStream = call.Method == "streamGenerateContent";
    }

    /// <summary>
    /// <c>POST /v1beta/interactions</c> names its model (or agent) in the body: recorded as the request's model, it is
    /// the model a scripted fault's error names, as for a generate call.
    /// </summary>
    private static void DescribeInteractionCreate(FakeCall call)
    {
        if (!call.TryGetJson(out var root) || root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String)
        {
            call.Model = StripModelsPrefix(model.GetString()!);
        }
        else if (root.TryGetProperty("agent", out var agent) && agent.ValueKind == JsonValueKind.String)
        {
            call.Model = agent.GetString();
        }

        call.IsStream = root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;
    }

    /// <summary><c>/v1beta/openai/models/{id}</c> names its model in the path; the POST routes carry it in the body.</summary>
    public static void DescribeOpenAiModelPath(string path, FakeCall call)
    {
        var modelsPrefix = OpenAiPrefix + "/models/";
        if (path.StartsWith(modelsPrefix, StringComparison.Ordinal))
        {
            call.Model = StripModelsPrefix(path.AsSpan(modelsPrefix.Length)).ToString();
        }
    }

    public static ReadOnlySpan<char> StripModelsPrefix(ReadOnlySpan<char> name) =>
        name.StartsWith("models/") ? name["models/".Length..] : name;

    public static string StripModelsPrefix(string name) =>
        name.StartsWith("models/", StringComparison.Ordinal) ? name["models/".Length..] : name;
}
