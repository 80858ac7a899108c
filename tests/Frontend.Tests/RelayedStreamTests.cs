using System.Text;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Tests;

/// <summary>An answer that names resources is held whole until they are bound, and only then reaches the client.</summary>
public sealed class RelayedStreamTests
{
    private static RelayPolicy Binding(Func<ReadOnlyMemory<byte>, Task> beforeRelease) =>
        new(null, Streaming: false, KeepAlive: null, Timeout.InfiniteTimeSpan, TimeProvider.System, beforeRelease);

    [Fact]
    public async Task No_byte_goes_on_until_the_whole_answer_was_handed_over_and_bound()
    {
        var answer = Encoding.UTF8.GetBytes("""{"name":"cachedContents/abc","model":"models/m"}""");
        var bound = new TaskCompletionSource();
        byte[]? seen = null;
        await using var relayed = new RelayedStream(new ChunkedStream(answer, 7), Binding(async whole =>
        {
            seen = whole.ToArray();
            await bound.Task;
        }));

        var buffer = new byte[4096];
        var reading = relayed.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask();
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.False(reading.IsCompleted); // held while the binding is recorded
        Assert.Equal(answer, seen);

        bound.SetResult();
        var read = await reading;
        using var copy = new MemoryStream();
        copy.Write(buffer, 0, read);
        await relayed.CopyToAsync(copy, TestContext.Current.CancellationToken);
        Assert.Equal(answer, copy.ToArray());
        Assert.Equal(answer.Length, relayed.Bytes);
    }

    [Fact]
    public async Task An_answer_larger_than_the_hold_limit_goes_on_unbound()
    {
        var answer = new byte[RelayPolicy.MaxHeldBytes + 100_000];
        Array.Fill(answer, (byte)'x');
        var calls = 0;
        await using var relayed = new RelayedStream(new ChunkedStream(answer, 64 * 1024), Binding(_ =>
        {
            calls++;
            return Task.CompletedTask;
        }));

        using var copy = new MemoryStream();
        await relayed.CopyToAsync(copy, TestContext.Current.CancellationToken);

        Assert.Equal(answer.Length, copy.Length);
        Assert.Equal(0, calls);
    }

    /// <summary>Hands its bytes out a few at a time, as a socket does.</summary>
    [Fact]
    public async Task A_stream_that_names_its_resource_in_its_first_event_is_held_only_until_that_event_is_bound()
    {
        var first = "data: {\"event_type\":\"interaction.created\",\"interaction\":{\"id\":\"v1_a\"}}\n\n";
        var rest = "data: {\"event_type\":\"step.delta\"}\n\n";
        var upstream = new System.IO.Pipelines.Pipe();
        var bound = new TaskCompletionSource();
        byte[]? seen = null;
        var policy = new RelayPolicy(null, Streaming: true, KeepAlive: null, Timeout.InfiniteTimeSpan, TimeProvider.System, async held =>
        {
            seen = held.ToArray();
            await bound.Task;
        })
        { BindsFirstEvent = true };
        await using var relayed = new RelayedStream(upstream.Reader.AsStream(), policy);
        var buffer = new byte[4096];

        // half the first event: nothing is bound, nothing goes on
        await upstream.Writer.WriteAsync(Encoding.UTF8.GetBytes(first[..20]), TestContext.Current.CancellationToken);
        var reading = relayed.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask();
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Null(seen);
        await upstream.Writer.WriteAsync(Encoding.UTF8.GetBytes(first[20..] + rest[..10]), TestContext.Current.CancellationToken);
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Equal(first, Encoding.UTF8.GetString(seen!)); // the first event, whole, and only it
        Assert.False(reading.IsCompleted); // held while the binding is recorded

        bound.SetResult();
        var read = await reading;
        Assert.Equal(first + rest[..10], Encoding.UTF8.GetString(buffer, 0, read));

        // the rest of the stream flows as it comes, with upstream still open
        await upstream.Writer.WriteAsync(Encoding.UTF8.GetBytes(rest[10..]), TestContext.Current.CancellationToken);
        read = await relayed.ReadAsync(buffer, TestContext.Current.CancellationToken);
        Assert.Equal(rest[10..], Encoding.UTF8.GetString(buffer, 0, read));
        await upstream.Writer.CompleteAsync();
        Assert.Equal(0, await relayed.ReadAsync(buffer, TestContext.Current.CancellationToken));
    }

    private sealed class ChunkedStream(byte[] bytes, int chunk) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
