using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Reads the <c>model</c> field of a multipart/form-data body (OpenAI's audio transcriptions and image edits) from the
/// buffered bytes: file parts are skipped over, never copied.
/// </summary>
public static class MultipartModelReader
{
    private const int MaxModelFieldBytes = 1024;

    /// <summary>The model field, or null when the form has none.</summary>
    /// <exception cref="InvalidRequestBodyException">No boundary in the Content-Type, or a malformed form.</exception>
    public static async Task<string?> ReadAsync(string contentType, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            throw new InvalidRequestBodyException("A multipart/form-data body needs a boundary in its Content-Type.");
        }
        try
        {
            using var stream = new ReadOnlyMemoryStream(body);
            var reader = new MultipartReader(boundary, stream);
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    && disposition.IsFormDisposition()
                    && HeaderUtilities.RemoveQuotes(disposition.Name).Equals("model", StringComparison.Ordinal))
                {
                    var field = new byte[MaxModelFieldBytes];
                    var length = await section.Body.ReadAtLeastAsync(field, field.Length, throwOnEndOfStream: false, cancellationToken);
                    return System.Text.Encoding.UTF8.GetString(field, 0, length).Trim();
                }
            }
            return null;
        }
        // a broken form is an IOException; headers over the reader's limits an InvalidDataException; a boundary longer
        // than its buffer an ArgumentOutOfRangeException
        catch (Exception ex) when (ex is IOException or InvalidDataException or ArgumentOutOfRangeException)
        {
            throw new InvalidRequestBodyException($"The multipart/form-data body could not be read: {ex.Message}");
        }
    }
}
