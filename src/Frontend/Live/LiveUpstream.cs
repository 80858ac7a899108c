using System.Net;
using System.Net.WebSockets;
using GeminiParty.Frontend.Forwarding;
using GeminiParty.Frontend.Hosting;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Live;

/// <summary>
/// Opens Live sessions upstream: the WebSocket handshake with the pool key in <c>x-goog-api-key</c> (never in the URL),
/// the client's setup message, and upstream's first answer, which says whether the key was accepted.
/// </summary>
public sealed partial class LiveUpstream : IDisposable
{
    /// <summary>The client headers that describe the client rather than authenticate it; they pass upstream.</summary>
    private static readonly string[] ForwardedHeaders = ["user-agent", "x-goog-api-client"];

    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _baseUri;
    private readonly TimeSpan _setupTimeout;
    private readonly UpstreamKeySecrets _keys;

    public LiveUpstream(IOptions<FrontendOptions> options, UpstreamKeySecrets keys)
    {
        var gateway = options.Value;
        var builder = new UriBuilder(gateway.BaseUri);
        builder.Scheme = builder.Scheme == Uri.UriSchemeHttps ? "wss" : "ws";
        _baseUri = builder.Uri;
        _setupTimeout = gateway.UpstreamTimeout;
        _keys = keys;
        // a handler of its own: WebSocket connections are not pooled, and ClientWebSocket needs HTTP/1.1 upgrades
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            ActivityHeadersPropagator = null,
        });
    }

    /// <summary>Where a session of <paramref name="rpc"/> goes: GEMINI_BASE_URL as ws:// or wss://, same path, no query.</summary>
    public Uri UriFor(LiveRpc rpc) => new(_baseUri, rpc.UpstreamPath);

    /// <summary>
    /// Connects with <paramref name="secret"/>, sends <paramref name="setup"/> and waits for upstream's first message,
    /// whose first fragment lands at the start of <paramref name="buffer"/>. <paramref name="resourceInPlay"/>: the setup
    /// names a resource, so a refused permission is about it, not the key.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="aborted"/> fired: the client left.</exception>
    public async Task<LiveAttempt> OpenAsync(LiveRpc rpc, LiveSetup setup, bool resourceInPlay, string secret, HttpRequest client, byte[] buffer,
        CancellationToken aborted)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("x-goog-api-key", secret);
        foreach (var name in ForwardedHeaders)
        {
            var value = client.Headers[name].ToString();
            if (value.Length > 0)
            {
                socket.Options.SetRequestHeader(name, value);
            }
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(_setupTimeout);
        try
        {
            try
            {
                await socket.ConnectAsync(UriFor(rpc), _invoker, timeout.Token);
            }
            catch (WebSocketException) when (socket.HttpStatusCode is not (0 or HttpStatusCode.SwitchingProtocols))
            {
                var status = (int)socket.HttpStatusCode;
                socket.Dispose();
                return LiveAttempt.HandshakeRefused(status, LiveCloseClassifier.ClassifyHandshake(status));
            }
            await socket.SendAsync(setup.Message, setup.Type, endOfMessage: true, timeout.Token);
            var first = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            if (first.MessageType != WebSocketMessageType.Close)
            {
                return LiveAttempt.Opened(socket, first);
            }
            var description = socket.CloseStatusDescription is { Length: > 0 } text ? _keys.MaskSecrets(text) : null;
            var closeStatus = socket.CloseStatus;
            await AcknowledgeCloseAsync(socket, closeStatus);
            return LiveAttempt.Closed(closeStatus, description, LiveCloseClassifier.Classify(closeStatus, description, resourceInPlay));
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            socket.Dispose();
            return LiveAttempt.Failed("no setup answer within UPSTREAM_TIMEOUT");
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException)
        {
            socket.Dispose();
            return LiveAttempt.Failed(ex is WebSocketException { WebSocketErrorCode: var code } ? $"connection failed: {code}" : "connection failed");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Answers upstream's close so it ends cleanly; a failure here changes nothing for the client.</summary>
    private static async Task AcknowledgeCloseAsync(ClientWebSocket socket, WebSocketCloseStatus? status)
    {
        try
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.CloseOutputAsync(status ?? WebSocketCloseStatus.Empty, null, quick.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }

    public void Dispose() => _invoker.Dispose();
}
