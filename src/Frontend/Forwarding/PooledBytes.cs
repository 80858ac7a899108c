using System.Buffers;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// A growable byte buffer on <see cref="ArrayPool{T}.Shared"/>, for bytes held only while one request is relayed: a
/// fresh array per request would be zeroed by the runtime and collected soon after, which at thousands of requests a
/// second costs more CPU than the relay itself (docs/benchmarks.md).
/// </summary>
public sealed class PooledBytes(int initialCapacity) : IDisposable
{
    private byte[]? _array;

    public int Length { get; private set; }

    /// <summary>The bytes written so far; valid until the next write or <see cref="Dispose"/>.</summary>
    public Memory<byte> Written => _array is null ? Memory<byte>.Empty : _array.AsMemory(0, Length);

    /// <summary>Room for at least <paramref name="size"/> more bytes, to read into; <see cref="Advance"/> counts them.</summary>
    public Memory<byte> Free(int size)
    {
        Reserve(size);
        return _array.AsMemory(Length);
    }

    public void Advance(int count) => Length += count;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        bytes.CopyTo(_array.AsSpan(Length));
        Length += bytes.Length;
    }

    private void Reserve(int size)
    {
        if (_array is not null && _array.Length - Length >= size)
        {
            return;
        }
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, Math.Max(Length + size, (_array?.Length ?? 0) * 2)));
        if (_array is not null)
        {
            _array.AsSpan(0, Length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_array);
        }
        _array = larger;
    }

    public void Dispose()
    {
        if (_array is not null)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = null;
            Length = 0;
        }
    }
}
