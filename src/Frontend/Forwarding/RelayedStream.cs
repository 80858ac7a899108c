using System.Buffers;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Upstream's success body as YARP reads it to copy it to the client: counts the bytes, keeps the tail the usage is read
/// from, and turns a failure after the first byte into the end of the body. YARP would reset the client's connection at
/// such a failure; ending the copy instead lets the forwarder close a stream with an error event (SSE) or abort a
/// truncated JSON answer itself. A failure before the first byte is thrown as it came, so another key may be tried.
/// </summary>
/// <remarks>
/// With a <see cref="RelayPolicy"/> it also holds a generated answer back until it shows a reply, so an empty one
/// (<see cref="EmptyAnswerException"/>) is thrown before anything reached the client and another key is tried; holds
/// an answer that names resources whole until they are bound to their key (<see cref="RelayPolicy.BeforeRelease"/>); and
/// during a stream's silence it hands YARP an SSE comment, only between upstream reads with nothing held and after a
/// whole event, so a comment never splits an event. The upstream read goes on meanwhile, into a buffer of its own.
/// </remarks>
public sealed class RelayedStream(Stream upstream, RelayPolicy? policy = null) : Stream
{
    private ResponseTail _tail;
    private const int OwnBufferBytes = 16 * 1024;
    private readonly PooledBytes? _held = policy?.Holds == true ? new PooledBytes(4 * 1024) : null;
    private readonly bool _direct = policy?.Holds != true && policy?.KeepAlive is null;
    private byte[]? _own;
    private ReadOnlyMemory<byte> _ready;
    private bool _readyIsKeepAlive;
    private Task<int>? _pending;
    private bool _released = policy?.Holds != true;
    private bool _ended;
    private long _heardAt = policy?.Time.GetTimestamp() ?? 0;
    private int _lastBytes; // the last bytes handed on, to tell whether a whole event has passed

    /// <summary>Body bytes handed on to the client (keep-alive comments not included).</summary>
    public long Bytes { get; private set; }

    /// <summary>Keep-alive comments handed on during the stream's silences.</summary>
    public int KeepAlives { get; private set; }

    /// <summary>Why the body ended early after its first byte; null when it ended normally (or not yet).</summary>
    public Exception? Broken { get; private set; }

    /// <summary>The token use the answer's last usage object names, read when the body ended normally.</summary>
    public TokenCounts? Usage { get; private set; }

    /// <summary>Upstream's answer had no reply (see <see cref="EmptyAnswerCheck"/>).</summary>
    public bool Empty { get; private set; }

    private bool Started => Bytes > 0 || KeepAlives > 0;

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
        if (_direct)
        {
            return await ReadDirectAsync(buffer, cancellationToken);
        }
        try
        {
            while (_ready.IsEmpty && !_ended)
            {
                await FillAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (Started && ex is HttpRequestException or IOException or OperationCanceledException or TimeoutException or EmptyAnswerException)
        {
            Broken = ex;
            _tail.Dispose();
            return 0;
        }
        if (_ready.IsEmpty)
        {
            Counted([]);
            return 0;
        }
        var count = Math.Min(buffer.Length, _ready.Length);
        _ready.Span[..count].CopyTo(buffer.Span);
        if (_readyIsKeepAlive)
        {
            if (count == _ready.Length)
            {
                KeepAlives++;
            }
        }
        else
        {
            Counted(buffer.Span[..count]);
        }
        _ready = _ready[count..];
        return count;
    }

    /// <summary>Without a policy: upstream's bytes straight into YARP's buffer.</summary>
    private async ValueTask<int> ReadDirectAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
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

    /// <summary>Makes bytes ready for the client: upstream's (once the answer shows a reply), or a keep-alive comment.</summary>
    private async Task FillAsync(CancellationToken cancellationToken)
    {
        _readyIsKeepAlive = false;
        _own ??= ArrayPool<byte>.Shared.Rent(OwnBufferBytes);
        int read;
        if (policy!.KeepAlive is not { } interval)
        {
            read = await upstream.ReadAsync(_own, cancellationToken); // nothing to race the read against: no Task needed
        }
        else
        {
            read = await ReadOrKeepAliveAsync(interval, cancellationToken);
            if (_readyIsKeepAlive)
            {
                return;
            }
        }
        _heardAt = policy.Time.GetTimestamp();
        if (read == 0)
        {
            _ended = true;
            if (!_released)
            {
                if (policy.Check is { } check && (policy.Streaming || !check.AnswerHasReply(_held!.Written.Span)))
                {
                    Empty = true;
                    throw new EmptyAnswerException();
                }
                if (policy.BeforeRelease is { } beforeRelease)
                {
                    await beforeRelease(_held!.Written);
                }
                Release();
            }
            return;
        }
        if (_released)
        {
            _ready = _own.AsMemory(0, read);
            return;
        }
        _held!.Write(_own.AsSpan(0, read));
        if (policy.BindsFirstEvent && policy.BeforeRelease is { } bindFirst && EndOfFirstEvent(_held.Written.Span) is > 0 and var end)
        {
            await bindFirst(_held.Written[..end]);
            Release();
            return;
        }
        if (_held.Length > RelayPolicy.MaxHeldBytes
            || (policy.BeforeRelease is null && policy.Streaming && policy.Check!.StreamHasReply(_held.Written.Span)))
        {
            Release();
        }
    }

    /// <summary>
    /// Upstream's next read, or a keep-alive comment made ready (<see cref="_readyIsKeepAlive"/>, and 0 returned) when
    /// the stream stays silent for <paramref name="interval"/>; the read goes on meanwhile and is picked up next time.
    /// </summary>
    private async ValueTask<int> ReadOrKeepAliveAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        var reading = _pending ??= upstream.ReadAsync(_own, cancellationToken).AsTask();
        if (!reading.IsCompleted && _released && AtEventBoundary)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var silence = Task.Delay(interval, policy!.Time, stop.Token);
            if (await Task.WhenAny(reading, silence) != reading && !cancellationToken.IsCancellationRequested)
            {
                if (policy.Time.GetElapsedTime(_heardAt) >= policy.IdleTimeout)
                {
                    // keep-alives reset YARP's idle limit, so the stream's own silence is measured here
                    throw new TimeoutException("STREAM_IDLE_TIMEOUT");
                }
                _ready = RelayPolicy.KeepAliveComment;
                _readyIsKeepAlive = true;
                return 0;
            }
            await stop.CancelAsync();
        }
        var read = await reading;
        _pending = null;
        return read;
    }

    /// <summary>Where the first server-sent event ends (after its blank line), or 0 while it is incomplete.</summary>
    private static int EndOfFirstEvent(ReadOnlySpan<byte> held)
    {
        var lf = held.IndexOf("\n\n"u8);
        var crlf = held.IndexOf("\r\n\r\n"u8);
        return crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : 0;
    }

    private void Release()
    {
        _released = true;
        _ready = _held!.Written;
    }

    /// <summary>Nothing handed on yet, or the last bytes closed an event (a blank line).</summary>
    private bool AtEventBoundary => Bytes == 0 || (_lastBytes & 0xFFFF) == 0x0A0A || _lastBytes == 0x0D0A0D0A;

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Only without a policy: holding back and keep-alives need the asynchronous reads YARP makes.</summary>
    public override int Read(byte[] buffer, int offset, int count)
    {
        if (!_direct)
        {
            throw new NotSupportedException("A relayed answer with a relay policy is read asynchronously.");
        }
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
        foreach (var b in chunk.Length > 4 ? chunk[^4..] : chunk)
        {
            _lastBytes = (_lastBytes << 8) | b;
        }
        _tail.Append(chunk);
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
            ReturnBuffers();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        _tail.Dispose();
        await upstream.DisposeAsync();
        ReturnBuffers();
        await base.DisposeAsync();
    }

    private void ReturnBuffers()
    {
        _held?.Dispose();
        // a read still in flight (the client left during a silence) may yet write into the buffer: the collector takes it then
        if (_own is not null && _pending is null or { IsCompleted: true })
        {
            ArrayPool<byte>.Shared.Return(_own);
        }
        _own = null;
    }
}
