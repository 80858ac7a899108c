using System.Globalization;
using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>
/// File Search stores as Google's Gemini API has them: create, get, list, delete; a file uploaded into a store with the
/// resumable protocol (<c>/upload/v1beta/fileSearchStores/{id}:uploadToFileSearchStore</c>) becomes one of its documents
/// through an import operation (done at once here); documents listed and fetched; every one owned by the key that made
/// the store. A generate request naming a store of another key gets the same 403 as for a file.
/// </summary>
internal static class FileSearchStoreEndpoints
{
    public static IEndpointRouteBuilder MapFileSearchStoreApi(this IEndpointRouteBuilder app, FakeGeminiState state)
    {
        var resources = state.Resources;
        foreach (var version in new[] { "/v1beta", "/v1" })
        {
            app.MapPost(version + "/fileSearchStores", context => CreateAsync(context, resources));
            app.MapGet(version + "/fileSearchStores", context => ResourceEndpoints.ListAsync(context, resources, "store", "fileSearchStores"));
            app.MapGet(version + "/fileSearchStores/{id}", (string id, HttpContext context) => GetAsync(context, resources, "fileSearchStores/" + id));
            app.MapDelete(version + "/fileSearchStores/{id}", (string id, HttpContext context) =>
                ResourceEndpoints.DeleteAsync(context, resources, "fileSearchStores/" + id));
            app.MapPost("/upload" + version + "/fileSearchStores/{id}:uploadToFileSearchStore", (string id, HttpContext context) =>
                ResourceEndpoints.UploadAsync(context, resources, "fileSearchStores/" + id));
            app.MapGet(version + "/fileSearchStores/{id}/documents", async (string id, HttpContext context) =>
            {
                if (await ResourceEndpoints.OwnedAsync(context, resources, "fileSearchStores/" + id) is not null)
                {
                    await ResourceEndpoints.ListAsync(context, resources, "document", "documents",
                        document => document.Name.StartsWith($"fileSearchStores/{id}/", StringComparison.Ordinal));
                }
            });
            app.MapPost(version + "/fileSearchStores/{id}:importFile", (string id, HttpContext context) =>
                ImportFileAsync(context, resources, "fileSearchStores/" + id));
            app.MapGet(version + "/fileSearchStores/{id}/documents/{document}", (string id, string document, HttpContext context) =>
                GetAsync(context, resources, $"fileSearchStores/{id}/documents/{document}"));
            app.MapDelete(version + "/fileSearchStores/{id}/documents/{document}", (string id, string document, HttpContext context) =>
                DeleteDocumentAsync(context, resources, $"fileSearchStores/{id}/documents/{document}"));
            app.MapGet(version + "/fileSearchStores/{id}/operations/{operation}", (string id, string operation, HttpContext context) =>
                GetAsync(context, resources, $"fileSearchStores/{id}/operations/{operation}"));
            app.MapGet(version + "/fileSearchStores/{id}/upload/operations/{operation}", (string id, string operation, HttpContext context) =>
                GetAsync(context, resources, $"fileSearchStores/{id}/upload/operations/{operation}"));
        }
        return app;
    }

    private static async Task CreateAsync(HttpContext context, FakeResources resources)
    {
        var call = context.Features.Get<FakeCall>()!;
        var displayName = call.TryGetJson(out var root) && root.ValueKind == JsonValueKind.Object && root.TryGetProperty("displayName", out var d)
            ? d.GetString() : null;
        var store = resources.Add("fileSearchStores/" + Id(), ResourceEndpoints.Key(context), "store", displayName: displayName);
        await WriteAsync(context, store);
    }

    /// <summary>The finalize of an upload into <paramref name="store"/>: a new document, and the import operation that made it.</summary>
    internal static Task ImportedAsync(HttpContext context, FakeResources resources, string store, FakeUpload session)
    {
        var document = resources.Add($"{store}/documents/{Id()}", session.Owner, "document", session.Received.ToArray(), session.MimeType,
            displayName: session.DisplayName);
        var operation = resources.Add($"{store}/upload/operations/{Id()}", session.Owner, "store-operation", inputFile: document.Name);
        session.File = document.Name;
        context.Response.Headers["x-goog-upload-status"] = "final";
        return WriteAsync(context, operation);
    }

    /// <summary>
    /// <c>:importFile</c>: a file of the same key (project) becomes a document of the store through an import operation,
    /// running when answered and done from its first get. A file of another key is refused as any foreign resource.
    /// </summary>
    private static async Task ImportFileAsync(HttpContext context, FakeResources resources, string store)
    {
        if (await ResourceEndpoints.OwnedAsync(context, resources, store) is null)
        {
            return;
        }
        var call = context.Features.Get<FakeCall>()!;
        var fileName = call.TryGetJson(out var root) && root.ValueKind == JsonValueKind.Object && root.TryGetProperty("fileName", out var f)
            ? f.GetString() : null;
        if (fileName is null)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("* ImportFileRequest.file_name: file_name is required\n"));
            return;
        }
        if (await ResourceEndpoints.OwnedAsync(context, resources, fileName) is not { } file)
        {
            return;
        }
        var document = resources.Add($"{store}/documents/{Id()}", file.Owner, "document", file.Content, file.MimeType, displayName: fileName);
        var operation = resources.Add($"{store}/operations/{Id()}", file.Owner, "import-operation", inputFile: document.Name);
        await WriteAsync(context, operation);
    }

    private static async Task DeleteDocumentAsync(HttpContext context, FakeResources resources, string name)
    {
        if (await ResourceEndpoints.OwnedAsync(context, resources, string.Join('/', name.Split('/').Take(2))) is null)
        {
            return;
        }
        if (!resources.Remove(name))
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.ResourceDenied("Document", name[(name.LastIndexOf('/') + 1)..]));
            return;
        }
        await ResponseWriter.WriteJsonAsync(context, 200, "{}"u8.ToArray());
    }

    private static async Task GetAsync(HttpContext context, FakeResources resources, string name)
    {
        // a store's documents and operations are refused to other keys as the store is
        var store = string.Join('/', name.Split('/').Take(2));
        if (await ResourceEndpoints.OwnedAsync(context, resources, store) is null)
        {
            return;
        }
        if (resources.Find(name) is not { } resource)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.ResourceDenied("Document", name[(name.LastIndexOf('/') + 1)..]));
            return;
        }
        if (resource.Kind == "import-operation")
        {
            Interlocked.Increment(ref resource.Polls);
        }
        await WriteAsync(context, resource);
    }

    private static Task WriteAsync(HttpContext context, FakeResource resource) =>
        ResponseWriter.WriteJsonAsync(context, 200, JsonBytes.Write(json =>
        {
            var created = resource.Created.ToString("O", CultureInfo.InvariantCulture);
            json.WriteStartObject();
            json.WriteString("name", resource.Name);
            switch (resource.Kind)
            {
                case "store-operation":
                    json.WriteBoolean("done", true);
                    json.WriteStartObject("response");
                    json.WriteString("@type", "type.googleapis.com/google.ai.generativelanguage.v1beta.UploadToFileSearchStoreResponse");
                    json.WriteString("parent", string.Join('/', resource.Name.Split('/').Take(2)));
                    json.WriteString("documentName", resource.InputFile);
                    json.WriteEndObject();
                    break;
                case "import-operation":
                    var done = Volatile.Read(ref resource.Polls) > 0;
                    json.WriteBoolean("done", done);
                    if (done)
                    {
                        json.WriteStartObject("response");
                        json.WriteString("@type", "type.googleapis.com/google.ai.generativelanguage.v1beta.ImportFileResponse");
                        json.WriteString("parent", string.Join('/', resource.Name.Split('/').Take(2)));
                        json.WriteString("documentName", resource.InputFile);
                        json.WriteEndObject();
                    }
                    break;
                case "document":
                    json.WriteString("displayName", resource.DisplayName ?? resource.Name);
                    json.WriteString("state", "STATE_ACTIVE");
                    json.WriteString("sizeBytes", (resource.Content?.Length ?? 0).ToString(CultureInfo.InvariantCulture));
                    json.WriteString("mimeType", resource.MimeType ?? "text/plain");
                    json.WriteString("createTime", created);
                    json.WriteString("updateTime", created);
                    break;
                default:
                    if (resource.DisplayName is { } displayName)
                    {
                        json.WriteString("displayName", displayName);
                    }
                    json.WriteString("createTime", created);
                    json.WriteString("updateTime", created);
                    break;
            }
            json.WriteEndObject();
        }));

    private static string Id() => Guid.NewGuid().ToString("N")[..12];
}
