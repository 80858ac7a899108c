using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace GeminiParty.FakeGemini;

/// <summary>
/// The Live API as Google serves it, over WebSockets at <c>/ws/google.ai.generativelanguage.{version}.GenerativeService.{method}</c>:
/// the key comes in <c>x-goog-api-key</c> (or <c>?key=</c>), the first client message is the setup, answered with
/// <c>setupComplete</c>; each <c>clientContent</c> text turn is answered with the text in a <c>serverContent</c> message and
/// a second one that completes the turn and carries <c>usageMetadata</c>. Server messages go out as binary frames, as
/// Google sends them. A turn whose text is <c>/close {code} {reason}</c> makes the fake close the session with that code.
/// Plus <c>POST /_fake/live-faults</c> and <c>GET /_fake/live-sessions</c> for tests in other processes.
/// </summary>
internal static class LiveEndpoints
{
    private const string Package = "google.ai.generativelanguage.";

    public static WebApplication MapFakeLiveApi(this WebApplication app, FakeGeminiState state)
    {
        app.UseWebSockets();
        app.Map("/ws/{rpc}", (string rpc, HttpContext context) => HandleAsync(context, rpc, state.Live, state.IsValidKey, state.Resources, state.Stopping));
        app.MapPost("/_fake/live-faults", (LiveFaultRequest request) =>
        {
            if (string.IsNullOrEmpty(request.Key) || !Enum.TryParse<LiveFaultKind>(request.Fault, ignoreCase: true, out var fault))
            {
                return Results.BadRequest($"key is required and fault must be one of: {string.Join(", ", Enum.GetNames<LiveFaultKind>())}");
            }
            state.Live.SetFault(request.Key, fault, request.Times ?? int.MaxValue);
            return Results.NoContent();
        });
        app.MapGet("/_fake/live-sessions", () => TypedResults.Ok(state.Live.Sessions));
        return app;
    }

    private static async Task HandleAsync(HttpContext context, string rpc, FakeLiveState live, Func<string, bool> isValidKey, FakeResources resources,
        CancellationToken stopping)
    {
        if (!rpc.StartsWith(Package, StringComparison.Ordinal) || !rpc.Contains(".GenerativeService.Bidi", StringComparison.Ordinal))
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.NotFound($"Method not found: {rpc}"));
            return;
        }
        var request = context.Request;
        var key = request.Headers["x-goog-api-key"].ToString() is { Length: > 0 } header ? header : request.Query["key"].ToString();
        var apiKey = string.IsNullOrEmpty(key) ? null : key;
        var headers = request.Headers.ToDictionary(pair => pair.Key, pair => pair.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var fault = live.TakeFault(apiKey);
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Expected a WebSocket upgrade."));
            return;
        }
        if (fault is LiveFaultKind.Handshake403 or LiveFaultKind.Handshake429)
        {
            var error = fault == LiveFaultKind.Handshake403 ? GoogleErrors.Suspended(apiKey!) : GoogleErrors.RateLimited(perDay: false, 30, null);
            live.Record(new RecordedLiveSession
            {
                Path = request.Path.Value ?? "", Query = request.QueryString.Value ?? "", ApiKey = apiKey, Headers = headers,
                HandshakeStatus = error.Code, Fault = fault, Ended = true,
            });
            await ResponseWriter.WriteErrorAsync(context, error);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var session = new RecordedLiveSession
        {
            Path = request.Path.Value ?? "", Query = request.QueryString.Value ?? "", ApiKey = apiKey, Headers = headers,
            HandshakeStatus = StatusCodes.Status101SwitchingProtocols, Fault = fault,
        };
        live.Record(session);
        live.Opened();
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        try
        {
            await ServeAsync(socket, session, fault, apiKey is not null && isValidKey(apiKey), apiKey is null, resources, ended.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // the gateway dropped the connection, or the fake is stopping
        }
        finally
        {
            session.Ended = true;
            live.Closed();
        }
    }

    private static async Task ServeAsync(WebSocket socket, RecordedLiveSession session, LiveFaultKind? fault, bool validKey, bool noKey,
        FakeResources resources, CancellationToken cancellationToken)
    {
        var setup = await ReceiveAsync(socket, session, cancellationToken);
        if (setup is null)
        {
            return;
        }
        session.Model = ReadSetupModel(setup);
        // a resource the setup names (a custom voice) belongs to the key that made it, as in an HTTP call
        var foreign = validKey ? resources.ForeignIn(Encoding.UTF8.GetString(setup), session.ApiKey!) : null;
        var refusal = (fault, validKey, noKey) switch
        {
            _ when foreign is not null => ((WebSocketCloseStatus)1008, GoogleErrors.ResourceDenied(ResourceEndpoints.Kind(foreign), foreign[(foreign.LastIndexOf('/') + 1)..]).Message),
            (LiveFaultKind.Close1008InvalidKey, _, _) => ((WebSocketCloseStatus)1008, "API key not valid. Please pass a valid API key."),
            (LiveFaultKind.Close1011Quota, _, _) => ((WebSocketCloseStatus)1011,
                "You exceeded your current quota, please check your plan and billing details."),
            (LiveFaultKind.Close1011Internal, _, _) => ((WebSocketCloseStatus)1011, "Internal error encountered."),
            (LiveFaultKind.Close1008ModelNotFound, _, _) => ((WebSocketCloseStatus)1008,
                $"models/{session.Model} is not found for API version v1beta, or is not supported for bidiGenerateContent."),
            (_, _, true) => ((WebSocketCloseStatus)1008, "Method doesn't allow unregistered callers (callers without established identity)."),
            (_, false, _) => ((WebSocketCloseStatus)1007, "API key not valid. Please pass a valid API key."),
            _ => ((WebSocketCloseStatus)0, ""),
        };
        if (refusal.Item1 != 0)
        {
            await socket.CloseAsync(refusal.Item1, refusal.Item2, cancellationToken);
            return;
        }
        await SendAsync(socket, """{"setupComplete":{}}"""u8.ToArray(), cancellationToken);
        while (await ReceiveAsync(socket, session, cancellationToken) is { } message)
        {
            if (ReadTurnText(message) is not { } text)
            {
                continue; // realtime input, tool responses: nothing to answer in this fake
            }
            if (text.StartsWith("/close ", StringComparison.Ordinal))
            {
                var parts = text.Split(' ', 3);
                await socket.CloseAsync((WebSocketCloseStatus)int.Parse(parts[1]), parts.Length > 2 ? parts[2] : null, cancellationToken);
                return;
            }
            var answer = $"Fake live answer to: {text}";
            var prompt = TokenEstimator.ForText(text);
            var response = TokenEstimator.ForText(answer);
            await SendAsync(socket, JsonBytes.Write(json =>
            {
                json.WriteStartObject();
                json.WriteStartObject("serverContent");
                json.WriteStartObject("modelTurn");
                json.WriteStartArray("parts");
                json.WriteStartObject();
                json.WriteString("text", answer);
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndObject();
            }), cancellationToken);
            await SendAsync(socket, JsonBytes.Write(json =>
            {
                json.WriteStartObject();
                json.WriteStartObject("serverContent");
                json.WriteBoolean("turnComplete", true);
                json.WriteEndObject();
                json.WriteStartObject("usageMetadata");
                json.WriteNumber("promptTokenCount", prompt);
                json.WriteNumber("responseTokenCount", response);
                json.WriteNumber("totalTokenCount", prompt + response);
                json.WriteEndObject();
                json.WriteEndObject();
            }), cancellationToken);
        }
    }

    /// <summary>The next whole message, or null when the client closed (its close is answered).</summary>
    private static async Task<byte[]?> ReceiveAsync(WebSocket socket, RecordedLiveSession session, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.GetMemory(4096), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                session.ClientCloseStatus = (int?)socket.CloseStatus;
                session.ClientCloseDescription = socket.CloseStatusDescription;
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.Empty,
                        socket.CloseStatus is null ? null : socket.CloseStatusDescription, cancellationToken);
                }
                return null;
            }
            buffer.Advance(result.Count);
            if (result.EndOfMessage)
            {
                lock (session.ClientMessageTypes)
                {
                    session.ClientMessageTypes.Add(RecordedLiveSession.TypeName(result.MessageType));
                }
                return buffer.WrittenSpan.ToArray();
            }
        }
    }

    private static Task SendAsync(WebSocket socket, byte[] message, CancellationToken cancellationToken) =>
        socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);

    private static string? ReadSetupModel(byte[] message)
    {
        try
        {
            using var document = JsonDocument.Parse(message);
            return document.RootElement.TryGetProperty("setup", out var setup) && setup.TryGetProperty("model", out var model)
                ? model.GetString()?.Replace("models/", "", StringComparison.Ordinal)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The text of a <c>clientContent</c> turn, if the message is one.</summary>
    private static string? ReadTurnText(byte[] message)
    {
        try
        {
            using var document = JsonDocument.Parse(message);
            if (!document.RootElement.TryGetProperty("clientContent", out var content) || !content.TryGetProperty("turns", out var turns))
            {
                return null;
            }
            var text = new StringBuilder();
            foreach (var turn in turns.EnumerateArray())
            {
                if (turn.TryGetProperty("parts", out var parts))
                {
                    foreach (var part in parts.EnumerateArray())
                    {
                        if (part.TryGetProperty("text", out var value))
                        {
                            text.Append(value.GetString());
                        }
                    }
                }
            }
            return text.ToString();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>POST /_fake/live-faults: <c>Fault</c> is a <see cref="LiveFaultKind"/> name; <c>Times</c> defaults to forever.</summary>
internal sealed record LiveFaultRequest(string? Key, string? Fault, int? Times);
