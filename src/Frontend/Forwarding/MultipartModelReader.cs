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
        catch (IOException ex)
        {
            throw new InvalidRequestBodyException($"The multipart/form-data body could not be read: {ex.Message}");
        }
    }

    /// <summary>A read-only stream over bytes already in memory, so the form is read without copying it.</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> bytes) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => bytes.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = Math.Min(buffer.Length, bytes.Length - _position);
            bytes.Span.Slice(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
