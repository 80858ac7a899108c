using System.IO.Compression;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace GeminiParty.FakeGemini;

/// <summary>
/// What Google does with a body before reading it: a gzip Content-Encoding is decoded, and a multipart form's
/// <c>model</c> field names the model (OpenAI's audio transcriptions).
/// </summary>
internal static class RequestBodyDecoding
{
    public static byte[] Decode(HttpRequest request, byte[] raw)
    {
        var encoding = request.Headers.ContentEncoding.ToString();
        if (raw.Length == 0 || !encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            return raw;
        }

        using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
        using var decoded = new MemoryStream();
        gzip.CopyTo(decoded);
        return decoded.ToArray();
    }

    public static bool IsMultipart(HttpRequest request) =>
        request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>The parts of a multipart form by name, file parts as text too (tests only compare their length).</summary>
    public static async Task<Dictionary<string, string>> ReadFormFieldsAsync(HttpRequest request, byte[] body, CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            return fields;
        }

        var reader = new MultipartReader(boundary, new MemoryStream(body));
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                && disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
            {
                using var text = new StreamReader(section.Body);
                fields[HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? ""] = await text.ReadToEndAsync(cancellationToken);
            }
        }

        return fields;
    }

    /// <summary>
    /// The file part named <paramref name="name"/> as bytes (the form fields above are text, which would mangle a
    /// binary file), or null when the form has none.
    /// </summary>
    public static async Task<MultipartFile?> ReadFileAsync(HttpRequest request, byte[] body, string name, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            return null;
        }

        var reader = new MultipartReader(boundary, new MemoryStream(body));
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                && HeaderUtilities.RemoveQuotes(disposition.Name).Value == name)
            {
                using var content = new MemoryStream();
                await section.Body.CopyToAsync(content, cancellationToken);
                var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar).Value is { Length: > 0 } star
                    ? star
                    : HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? "";
                return new MultipartFile(fileName, section.ContentType, content.ToArray());
            }
        }

        return null;
    }
}
