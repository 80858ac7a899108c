namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Upstream's success body as YARP reads it to copy it to the client: counts the bytes, keeps the tail the usage is read
/// from, and turns a failure after the first byte into the end of the body. YARP would reset the client's connection at
/// such a failure; ending the copy instead lets the forwarder close a stream with an error event (SSE) or abort a
/// truncated JSON answer itself. A failure before the first byte is thrown as it came, so another key may be tried.
/// </summary>
public sealed class RelayedStream(Stream upstream, int captureLimit = 0) : Stream
{
    private MemoryStream? _captured;

    /// <summary>The answer's first bytes (up to the capture limit), for answers read for the resources they name.</summary>
    public ReadOnlyMemory<byte> Captured => _captured is { } captured && captured.Length < captureLimit
        ? captured.GetBuffer().AsMemory(0, (int)captured.Length)
        : ReadOnlyMemory<byte>.Empty; // a partial answer would not parse

    private ResponseTail _tail;

    /// <summary>Body bytes handed on to the client.</summary>
    public long Bytes { get; private set; }

    /// <summary>Why the body ended early after its first byte; null when it ended normally (or not yet).</summary>
    public Exception? Broken { get; private set; }

    /// <summary>The token use the answer's last usage object names, read when the body ended normally.</summary>
    public TokenCounts? Usage { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Broken is not null)
        {
            return 0;
        }
        int read;
        try
        {
            read = await upstream.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (Bytes > 0 && ex is HttpRequestException or IOException or OperationCanceledException)
        {
            Broken = ex;
            _tail.Dispose();
            return 0;
        }
        Counted(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = upstream.Read(buffer, offset, count);
        Counted(buffer.AsSpan(offset, read));
        return read;
    }

    private void Counted(ReadOnlySpan<byte> chunk)
    {
        if (chunk.IsEmpty)
        {
            Usage ??= _tail.ReadUsage();
            _tail.Dispose();
            return;
        }
        Bytes += chunk.Length;
        _tail.Append(chunk);
        if (captureLimit > 0 && Bytes <= captureLimit)
        {
            (_captured ??= new MemoryStream()).Write(chunk);
        }
        else if (captureLimit > 0)
        {
            _captured = new MemoryStream(); // too large: nothing kept, and Captured stays empty
            captureLimit = -1;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _tail.Dispose();
            upstream.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        _tail.Dispose();
        await upstream.DisposeAsync();
        await base.DisposeAsync();
    }
}
