using GeminiParty.Frontend.Forwarding;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace GeminiParty.Frontend.Tests;

/// <summary>How a relayed success ends, decided by <see cref="RelayCompletion"/> alone.</summary>
[Collection(ForwardingPartsCollection.Name)]
public sealed class RelayCompletionTests(ForwardingPartsFixture frontend)
{
    private RelayCompletion Relays => frontend.Part<RelayCompletion>();

    /// <summary>An answer that sent its first bytes, then broke off, read through as YARP reads it.</summary>
    private static async Task<RelayedStream> BrokenAfterFirstBytesAsync()
    {
        var body = new RelayedStream(new BreaksAfter("data: {\"candidates\":[]}\n\n"u8.ToArray()));
        var buffer = new byte[1024];
        while (await body.ReadAsync(buffer) > 0)
        {
        }
        Assert.NotNull(body.Broken);
        return body;
    }

    [Fact]
    public async Task A_stream_that_broke_off_after_its_first_byte_ends_with_an_error_event()
    {
        var model = FrontendFixture.NewModel();
        var key = (await frontend.Part<KeyLeases>().NextAsync(model, null, TestContext.Current.CancellationToken)).Key!;
        var context = ForwardingPartsFixture.NewContext();
        context.Response.ContentType = "text/event-stream";

        var (failure, written) = await Relays.CompleteAsync(context, ForwardingPartsFixture.NativeCall(model), key,
            ForwarderError.None, await BrokenAfterFirstBytesAsync(), deadline: null);

        Assert.Null(failure); // the client has its answer: no other key may try
        var text = ForwardingPartsFixture.ResponseText(context);
        Assert.StartsWith("data: ", text);
        Assert.Contains("broke off", text);
        Assert.Equal(text.Length, written);
    }

    [Fact]
    public async Task An_answer_that_is_not_a_stream_and_broke_off_is_aborted_rather_than_left_looking_complete()
    {
        var model = FrontendFixture.NewModel();
        var key = (await frontend.Part<KeyLeases>().NextAsync(model, null, TestContext.Current.CancellationToken)).Key!;
        var context = ForwardingPartsFixture.NewContext();
        context.Response.ContentType = "application/json";
        var lifetime = new AbortRecorder();
        context.Features.Set<IHttpRequestLifetimeFeature>(lifetime);

        var (failure, written) = await Relays.CompleteAsync(context, ForwardingPartsFixture.NativeCall(model), key,
            ForwarderError.None, await BrokenAfterFirstBytesAsync(), deadline: null);

        Assert.Null(failure);
        Assert.True(lifetime.Aborted);
        Assert.Equal(0, written);
    }

    [Fact]
    public async Task An_answer_that_failed_before_its_first_byte_is_a_failure_another_key_may_retry()
    {
        var model = FrontendFixture.NewModel();
        var key = (await frontend.Part<KeyLeases>().NextAsync(model, null, TestContext.Current.CancellationToken)).Key!;
        var context = ForwardingPartsFixture.NewContext();
        context.Response.StatusCode = 200;

        var (failure, written) = await Relays.CompleteAsync(context, ForwardingPartsFixture.NativeCall(model), key,
            ForwarderError.ResponseBodyDestination, body: null, deadline: null);

        Assert.NotNull(failure);
        Assert.Equal(UpstreamOutcome.Transient, failure.Classification.Outcome);
        Assert.Equal(0, written);
        Assert.Equal(0, context.Response.Body.Length);
    }

    [Fact]
    public async Task A_whole_answer_is_final_and_adds_nothing_to_it()
    {
        var model = FrontendFixture.NewModel();
        var key = (await frontend.Part<KeyLeases>().NextAsync(model, null, TestContext.Current.CancellationToken)).Key!;
        var context = ForwardingPartsFixture.NewContext();

        var (failure, written) = await Relays.CompleteAsync(context, ForwardingPartsFixture.NativeCall(model), key,
            ForwarderError.None, body: null, deadline: null);

        Assert.Null(failure);
        Assert.Equal(0, written);
        Assert.Equal(0, context.Response.Body.Length);
    }

    /// <summary>Upstream's body: its bytes, then a broken connection.</summary>
    private sealed class BreaksAfter(byte[] bytes) : MemoryStream(bytes)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await base.ReadAsync(buffer, cancellationToken);
            return read > 0 ? read : throw new IOException("connection reset by peer");
        }
    }

    private sealed class AbortRecorder : IHttpRequestLifetimeFeature
    {
        public bool Aborted { get; private set; }

        public CancellationToken RequestAborted { get; set; }

        public void Abort() => Aborted = true;
    }
}
