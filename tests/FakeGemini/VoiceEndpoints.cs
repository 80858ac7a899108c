using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>
/// Custom voices as Google's Gemini API has them (<c>ai.voices</c> in <c>@google/genai</c>): a create with
/// <c>store: true</c> keeps the voice under a bare id <c>voice_…</c> owned by the key that made it; with <c>store:
/// false</c> (replicated voices only) nothing is kept and the answer carries a client-held <c>key</c>. Get and delete
/// by id; the list shows the key's own voices newest first, then the prebuilt catalog, in <c>page_size</c> /
/// <c>page_token</c> pages. A voice of another key is 403, as any foreign resource.
/// </summary>
internal static class VoiceEndpoints
{
    /// <summary>The prebuilt voices every key lists after its own (a few of Google's).</summary>
    private static readonly (string Id, string Gender)[] Catalog = [("Puck", "male"), ("Charon", "male"), ("Kore", "female")];

    /// <summary>Google keeps a stored voice a year from its last use.</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(365);

    public static IEndpointRouteBuilder MapVoiceApi(this IEndpointRouteBuilder app, FakeGeminiState state)
    {
        var resources = state.Resources;
        foreach (var version in new[] { "/v1beta", "/v1", "/v1alpha" })
        {
            app.MapPost(version + "/voices", context => CreateAsync(context, resources));
            app.MapGet(version + "/voices", context => ListAsync(context, resources));
            app.MapGet(version + "/voices/{id}", async (string id, HttpContext context) =>
            {
                if (await ResourceEndpoints.OwnedAsync(context, resources, "voices/" + id) is { } voice)
                {
                    await ResponseWriter.WriteJsonAsync(context, 200, JsonBytes.Write(json => WriteVoice(json, voice)));
                }
            });
            app.MapDelete(version + "/voices/{id}", (string id, HttpContext context) => ResourceEndpoints.DeleteAsync(context, resources, "voices/" + id));
        }
        return app;
    }

    private static async Task CreateAsync(HttpContext context, FakeResources resources)
    {
        var call = context.Features.Get<FakeCall>()!;
        if (!call.TryGetJson(out var root) || root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("voice", out var voice) || voice.ValueKind != JsonValueKind.Object
            || !voice.TryGetProperty("type", out var typeValue) || typeValue.ValueKind != JsonValueKind.String
            || typeValue.GetString() is not ("prompted" or "replicated"))
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("* CreateVoiceRequest.voice.type: type is required\n"));
            return;
        }
        // a base voice of another project is refused as any foreign resource
        if (resources.ForeignIn(Encoding.UTF8.GetString(call.Body), ResourceEndpoints.Key(context)) is { } foreign)
        {
            await ResourceEndpoints.DeniedAsync(context, foreign);
            return;
        }
        var type = typeValue.GetString()!;
        var store = root.TryGetProperty("store", out var storeValue) && storeValue.ValueKind == JsonValueKind.True;
        if (!store)
        {
            if (type == "prompted")
            {
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("A prompted voice must be stored: set store to true."));
                return;
            }
            await ResponseWriter.WriteJsonAsync(context, 200, JsonBytes.Write(json =>
            {
                json.WriteStartObject();
                json.WriteString("type", type);
                json.WriteString("key", "voicekey_" + Guid.NewGuid().ToString("N"));
                json.WriteString("expire_time", (DateTimeOffset.UtcNow + Lifetime).ToString("O", CultureInfo.InvariantCulture));
                json.WriteEndObject();
            }));
            return;
        }
        var created = resources.Add(new FakeResource("voices/voice_" + Guid.NewGuid().ToString("N")[..12], ResourceEndpoints.Key(context), "voice",
            JsonSerializer.SerializeToUtf8Bytes(voice), "application/json", null)
        {
            ExpireTime = DateTimeOffset.UtcNow + Lifetime,
        });
        await ResponseWriter.WriteJsonAsync(context, 200, JsonBytes.Write(json => WriteVoice(json, created)));
    }

    /// <summary>The key's own voices newest first, then the catalog, as one sequence in pages.</summary>
    private static Task ListAsync(HttpContext context, FakeResources resources)
    {
        var own = resources.OwnedBy(ResourceEndpoints.Key(context), "voice").OrderByDescending(voice => voice.Created).ToList();
        var total = own.Count + Catalog.Length;
        var size = int.TryParse(context.Request.Query["page_size"], out var asked) && asked > 0 ? Math.Min(asked, 100) : 10;
        var start = 0;
        if (context.Request.Query["page_token"].ToString() is { Length: > 0 } token
            && (!token.StartsWith(PageTokenPrefix, StringComparison.Ordinal) || !int.TryParse(token[PageTokenPrefix.Length..], out start)))
        {
            return ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Invalid page token."));
        }
        var end = Math.Min(total, start + size);
        return ResponseWriter.WriteJsonAsync(context, 200, JsonBytes.Write(json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("voices");
            for (var i = start; i < end; i++)
            {
                if (i < own.Count)
                {
                    WriteVoice(json, own[i]);
                }
                else
                {
                    var (id, gender) = Catalog[i - own.Count];
                    json.WriteStartObject();
                    json.WriteString("id", id);
                    json.WriteString("type", "prebuilt");
                    json.WriteString("display_name", id);
                    json.WriteString("gender", gender);
                    json.WriteEndObject();
                }
            }
            json.WriteEndArray();
            if (end < total)
            {
                json.WriteString("next_page_token", PageTokenPrefix + end.ToString(CultureInfo.InvariantCulture));
            }
            json.WriteEndObject();
        }));
    }

    /// <summary>A stored voice: what its create described (less the input-only parts), its id and its expiry.</summary>
    private static void WriteVoice(Utf8JsonWriter json, FakeResource voice)
    {
        json.WriteStartObject();
        json.WriteString("id", voice.Name["voices/".Length..]);
        using (var described = JsonDocument.Parse(voice.Content!))
        {
            foreach (var property in described.RootElement.EnumerateObject())
            {
                if (property.Name is not ("id" or "replicated" or "sample_audio" or "expire_time" or "key"))
                {
                    property.WriteTo(json);
                }
            }
        }
        json.WriteString("expire_time", voice.ExpireTime!.Value.ToString("O", CultureInfo.InvariantCulture));
        json.WriteEndObject();
    }

    /// <summary>The fake's page tokens: an offset behind a prefix a client should not rely on.</summary>
    private const string PageTokenPrefix = "fake-voices-";
}
