using System.Numerics;
using System.Security.Cryptography;

namespace GeminiParty.Frontend.Observability;

/// <summary>
/// The ids requests carry in <c>x-request-id</c> and their log lines: a tag drawn at random when the process starts,
/// then a count. Kestrel's own trace identifiers count connections from the start time's ticks, so two replicas' ids
/// can meet; with 40 random bits per process, two replicas share a tag once in a trillion pairs.
/// </summary>
public static class RequestIds
{
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuv";

    private static readonly string Tag = NewTag();

    private static long _count;

    /// <summary>The next id of this process, e.g. <c>k3f9a2qz-1b</c>: one string, as Kestrel's own would be.</summary>
    public static string Next()
    {
        var count = (ulong)Interlocked.Increment(ref _count);
        var digits = Math.Max(1, (64 - BitOperations.LeadingZeroCount(count) + 3) / 4);
        return string.Create(Tag.Length + 1 + digits, count, static (span, count) =>
        {
            Tag.CopyTo(span);
            span[Tag.Length] = '-';
            count.TryFormat(span[(Tag.Length + 1)..], out _, "x");
        });
    }

    private static string NewTag()
    {
        Span<byte> random = stackalloc byte[8];
        RandomNumberGenerator.Fill(random);
        return string.Create(8, BitConverter.ToUInt64(random), static (span, bits) =>
        {
            for (var i = 0; i < span.Length; i++, bits >>= 5)
            {
                span[i] = Alphabet[(int)(bits & 31)];
            }
        });
    }
}
