using System.Buffers;
using System.Net.WebSockets;
using GeminiParty.Frontend.Forwarding;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// Relays an open Live session message by message in both directions: each fragment is sent on as it arrives, with its
/// type (text or binary) and end-of-message flag, so neither side waits for a whole message to be buffered. A close
/// from either side goes to the other with its code and reason; a side that breaks off without a close gets the other
/// one closed (1011 toward the client, 1001 toward upstream). The gateway sets no idle limit of its own.
/// </summary>
public sealed class LiveRelay(WebSocket client, WebSocket upstream, UpstreamKeySecrets keys, LiveUsage usage)
{
    /// <summary>How long the second side may take to answer a close before both connections are dropped.</summary>
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private const int BufferSize = 16 * 1024;

    public const string RevokedReason = "This client's token no longer allows this Live session (CLIENTS_FILE changed).";

    /// <summary>Bytes of message payload relayed from the client to upstream.</summary>
    public long ClientBytes { get; private set; }

    /// <summary>Bytes of message payload relayed from upstream to the client.</summary>
    public long UpstreamBytes { get; private set; }

    /// <summary>The close code the client received (or sent first), for the request log.</summary>
    public WebSocketCloseStatus? ClientCloseStatus { get; private set; }

    /// <summary>Which side ended the session: "client", "upstream" or "gateway".</summary>
    public string EndedBy { get; private set; } = "gateway";

    /// <summary>
    /// Runs until both sides have closed or one is gone. <paramref name="first"/> is upstream's first fragment, already
    /// received into <paramref name="upstreamBuffer"/> (the buffer the relay goes on using for that direction). When
    /// <paramref name="stopping"/> fires both sides are told to reconnect (1001); when <paramref name="revoked"/> fires
    /// (the client's token withdrawn) both are closed with 1008 and the reason.
    /// </summary>
    public async Task RunAsync(byte[] upstreamBuffer, ValueWebSocketReceiveResult first, CancellationToken stopping, CancellationToken revoked = default)
    {
        using var cancel = new CancellationTokenSource();
        var clientBuffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            var toClient = PumpAsync(upstream, client, upstreamBuffer, first, fromUpstream: true, cancel.Token);
            var toUpstream = PumpAsync(client, upstream, clientBuffer, null, fromUpstream: false, cancel.Token);
            using (stopping.Register(() => _ = GoAwayAsync(WebSocketCloseStatus.EndpointUnavailable, "The gateway is restarting; reconnect.")))
            using (revoked.Register(() => _ = GoAwayAsync(WebSocketCloseStatus.PolicyViolation, RevokedReason)))
            {
                var ended = await Task.WhenAny(toClient, toUpstream);
                var end = await ended;
                // toClient's source is upstream; a pump whose target failed was ended by its target's side
                var upstreamEnded = (ended == toClient) == (end != PumpEnd.TargetLost);
                EndedBy = stopping.IsCancellationRequested || revoked.IsCancellationRequested || end == PumpEnd.Stopped ? "gateway" : upstreamEnded ? "upstream" : "client";
                if (end is PumpEnd.SourceLost or PumpEnd.TargetLost)
                {
                    // the side that broke is gone; close the other one with a code that says so
                    if (upstreamEnded)
                    {
                        ClientCloseStatus = WebSocketCloseStatus.InternalServerError;
                        await CloseQuietlyAsync(client, WebSocketCloseStatus.InternalServerError, "The upstream connection broke off.");
                    }
                    else
                    {
                        await CloseQuietlyAsync(upstream, WebSocketCloseStatus.EndpointUnavailable, "The client connection broke off.");
                    }
                }
                var other = ended == toClient ? toUpstream : toClient;
                if (await Task.WhenAny(other, Task.Delay(CloseHandshakeTimeout, CancellationToken.None)) != other)
                {
                    cancel.Cancel(); // a receive cancelled aborts its connection: nothing is left waiting
                    client.Abort();
                    upstream.Abort();
                    await other;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(clientBuffer);
        }
    }

    private enum PumpEnd
    {
        /// <summary>The source sent a close, which was passed on.</summary>
        Closed,
        /// <summary>The source broke off without a close.</summary>
        SourceLost,
        /// <summary>Sending to the target failed: it is gone.</summary>
        TargetLost,
        /// <summary>The gateway is stopping, or the relay gave up waiting.</summary>
        Stopped,
    }

    private async Task<PumpEnd> PumpAsync(WebSocket source, WebSocket target, byte[] buffer, ValueWebSocketReceiveResult? first, bool fromUpstream, CancellationToken cancel)
    {
        var pending = first;
        while (true)
        {
            ValueWebSocketReceiveResult received;
            if (pending is { } already)
            {
                received = already;
                pending = null;
            }
            else
            {
                try
                {
                    received = await source.ReceiveAsync(buffer.AsMemory(), cancel);
                }
                catch (OperationCanceledException)
                {
                    return PumpEnd.Stopped;
                }
                catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
                {
                    return source.State is WebSocketState.Aborted && cancel.IsCancellationRequested ? PumpEnd.Stopped : PumpEnd.SourceLost;
                }
            }
            try
            {
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    var status = source.CloseStatus ?? WebSocketCloseStatus.Empty;
                    var description = status == WebSocketCloseStatus.Empty ? null : Describe(source.CloseStatusDescription, fromUpstream);
                    if (fromUpstream || ClientCloseStatus is null)
                    {
                        ClientCloseStatus = status;
                    }
                    if (target.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        await target.CloseOutputAsync(status, description, cancel);
                    }
                    return PumpEnd.Closed;
                }
                var fragment = buffer.AsMemory(0, received.Count);
                if (fromUpstream)
                {
                    usage.Append(fragment.Span, received.EndOfMessage);
                    UpstreamBytes += received.Count;
                }
                else
                {
                    ClientBytes += received.Count;
                }
                await target.SendAsync(fragment, received.MessageType, received.EndOfMessage, cancel);
            }
            catch (OperationCanceledException)
            {
                return PumpEnd.Stopped;
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                return PumpEnd.TargetLost;
            }
        }
    }

    /// <summary>Upstream's reasons may name a key (Google's errors do): masked, and cut to what a close frame holds.</summary>
    private string? Describe(string? description, bool fromUpstream) =>
        string.IsNullOrEmpty(description) ? description
            : LiveCloseReason.Fit(fromUpstream ? keys.MaskSecrets(description) : description);

    /// <summary>The gateway ends the session (it is stopping, or the client's token was revoked): both sides are told why; the pumps pass on their answers and end.</summary>
    private async Task GoAwayAsync(WebSocketCloseStatus status, string reason)
    {
        ClientCloseStatus ??= status;
        await Task.WhenAll(
            CloseQuietlyAsync(client, status, reason),
            CloseQuietlyAsync(upstream, status, reason));
    }

    private static async Task CloseQuietlyAsync(WebSocket socket, WebSocketCloseStatus status, string reason)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var quick = new CancellationTokenSource(CloseHandshakeTimeout);
                await socket.CloseOutputAsync(status, reason, quick.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // already gone: nothing to tell
        }
    }
}
