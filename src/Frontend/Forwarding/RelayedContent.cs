using System.Net;

namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Upstream's success content with its body read through a <see cref="RelayedStream"/>: YARP copies whatever content
/// the response holds after the transformer ran, so swapping it in is how the relayed bytes are seen without a copy.
/// </summary>
public sealed class RelayedContent(HttpContent upstream, RelayPolicy? policy = null) : HttpContent
{
    /// <summary>The body stream YARP read; null until it asked for it.</summary>
    public RelayedStream? Body { get; private set; }

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        Body = new RelayedStream(await upstream.ReadAsStreamAsync(cancellationToken), policy);

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await using var body = await CreateContentReadStreamAsync(cancellationToken);
        await body.CopyToAsync(stream, cancellationToken);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            upstream.Dispose();
        }
        base.Dispose(disposing);
    }
}
