using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace GeminiParty.Frontend.Tests;

/// <summary>A Live API client over a real WebSocket to the gateway, reading whole messages as a Google SDK does.</summary>
internal sealed class LiveTestClient : IAsyncDisposable
{
    public const string DefaultPath = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";

    private LiveTestClient(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>
    /// Connects with <paramref name="token"/> in <c>x-goog-api-key</c> (or no token), and the <c>Origin</c> a browser page
    /// would send; throws <see cref="LiveRefusedException"/> when refused.
    /// </summary>
    public static async Task<LiveTestClient> ConnectAsync(FrontendFixture gateway, string? token = FrontendFixture.Token, string path = DefaultPath,
        string? origin = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null)
        {
            socket.Options.SetRequestHeader("x-goog-api-key", token);
        }
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }
        // joined as text: a relative "//ws/..." would name a host
        var uri = new Uri(new UriBuilder(gateway.BaseAddress) { Scheme = "ws" }.Uri.ToString().TrimEnd('/') + path);
        try
        {
            await socket.ConnectAsync(uri, Cancellation);
        }
        catch
        {
            throw new LiveRefusedException((int)socket.HttpStatusCode, socket);
        }
        return new LiveTestClient(socket);
    }

    /// <summary>Connects and sends the setup for <paramref name="model"/>, without waiting for an answer.</summary>
    public static async Task<LiveTestClient> StartAsync(FrontendFixture gateway, string model, WebSocketMessageType type = WebSocketMessageType.Text,
        string token = FrontendFixture.Token)
    {
        var client = await ConnectAsync(gateway, token);
        await client.SendSetupAsync(model, type);
        return client;
    }

    public Task SendSetupAsync(string model, WebSocketMessageType type = WebSocketMessageType.Text) =>
        SendAsync(JsonSerializer.Serialize(new { setup = new { model = "models/" + model, generationConfig = new { responseModalities = new[] { "TEXT" } } } }), type);

    public Task SendAsync(string json, WebSocketMessageType type = WebSocketMessageType.Text) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(json), type, endOfMessage: true, Cancellation);

    public Task SendTurnAsync(string text) =>
        SendAsync(JsonSerializer.Serialize(new { clientContent = new { turns = new[] { new { role = "user", parts = new[] { new { text } } } }, turnComplete = true } }));

    /// <summary>The next whole message, or the close (with <see cref="LiveMessage.IsClose"/>) when the gateway closed.</summary>
    public async Task<LiveMessage> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        limit.CancelAfter(timeout ?? TimeSpan.FromSeconds(15));
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer.GetMemory(4096), limit.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return new LiveMessage(WebSocketMessageType.Close, "", Socket.CloseStatus, Socket.CloseStatusDescription);
            }
            buffer.Advance(result.Count);
            if (result.EndOfMessage)
            {
                return new LiveMessage(result.MessageType, Encoding.UTF8.GetString(buffer.WrittenSpan), null, null);
            }
        }
    }

    /// <summary>Messages up to and including the one that completes a turn.</summary>
    public async Task<List<LiveMessage>> ReceiveTurnAsync()
    {
        var messages = new List<LiveMessage>();
        while (true)
        {
            var message = await ReceiveAsync();
            messages.Add(message);
            if (message.IsClose || message.Text.Contains("\"turnComplete\":true", StringComparison.Ordinal))
            {
                return messages;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, quick.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }
        Socket.Dispose();
    }
}
