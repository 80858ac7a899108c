using System.Text;

namespace GeminiParty.FakeGemini;

/// <summary>Carries out a scripted fault on one request.</summary>
internal static class FaultResponder
{
    private static readonly byte[] BadGatewayHtml = Encoding.UTF8.GetBytes(
        "<!DOCTYPE html>\n<html lang=en><head><title>Error 502 (Server Error)!!1</title></head>"
        + "<body><p><b>502.</b> That's an error.</p><p>The server encountered a temporary error and could not complete your request.</p></body></html>\n");

    /// <summary>
    /// Returns false when the request should go on to its endpoint: a MidStreamFailure on a stream only
    /// arms the stream to break after its second event.
    /// </summary>
    public static async Task<bool> ApplyAsync(HttpContext context, FakeCall call, FakeFault fault, CancellationToken stopping)
    {
        switch (fault.Kind)
        {
            case FakeFaultKind.RateLimitPerMinute:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.RateLimited(perDay: false, fault.RetryDelaySeconds, call.Model));
                return true;
            case FakeFaultKind.QuotaPerDay:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.RateLimited(perDay: true, fault.RetryDelaySeconds, call.Model));
                return true;
            case FakeFaultKind.InvalidKey:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.InvalidKey());
                return true;
            case FakeFaultKind.Suspended:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.Suspended(call.ApiKey ?? ""));
                return true;
            case FakeFaultKind.Unauthenticated401:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.Unauthenticated());
                return true;
            case FakeFaultKind.Internal500:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.Internal());
                return true;
            case FakeFaultKind.Overloaded503:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.Overloaded());
                return true;
            case FakeFaultKind.DeadlineExceeded504:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.DeadlineExceeded());
                return true;
            case FakeFaultKind.BadRequest400:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest());
                return true;
            case FakeFaultKind.PermissionDenied:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.ResourceDenied("File", "abc123"));
                return true;
            case FakeFaultKind.LocationNotSupported:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.LocationNotSupported());
                return true;
            case FakeFaultKind.ArrayWrappedError:
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.ForStatus(fault.Status, call.ApiKey, call.Model), wrapInArray: true);
                return true;
            case FakeFaultKind.ConnectionReset:
                call.Abort(context);
                return true;
            case FakeFaultKind.Hang:
                await HangAsync(context, call, stopping);
                return true;
            case FakeFaultKind.NonJson:
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                context.Response.ContentType = "text/html; charset=UTF-8";
                context.Response.ContentLength = BadGatewayHtml.Length;
                await context.Response.Body.WriteAsync(BadGatewayHtml, context.RequestAborted);
                return true;
            case FakeFaultKind.MidStreamFailure when call.IsStream:
                call.AbortBeforeEvent = 2;
                return false;
            case FakeFaultKind.MidStreamFailure:
            case FakeFaultKind.Truncated:
                await WriteTruncatedAsync(context, call);
                return true;
            case FakeFaultKind.EmptyAnswer:
                await WriteEmptyAsync(context, call);
                return true;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault.Kind, "Unknown fault kind");
        }
    }

    private static async Task HangAsync(HttpContext context, FakeCall call, CancellationToken stopping)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, either.Token);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            call.Abort(context);
        }
    }

    private static async Task WriteEmptyAsync(HttpContext context, FakeCall call)
    {
        var model = call.Model ?? "gemini-2.0-flash";
        context.Response.StatusCode = StatusCodes.Status200OK;
        var body = (call.Surface, call.IsStream) switch
        {
            (FakeCall.OpenAi, true) => "data: [DONE]\n\n",
            (FakeCall.OpenAi, false) => $$"""{"id":"chatcmpl-empty","object":"chat.completion","created":0,"model":"{{model}}","choices":[]}""",
            // Google's stream ends with a usage-only event and no candidate
            (_, true) => $$"""data: {"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"modelVersion":"{{model}}"}""" + "\r\n\r\n",
            _ => $$"""{"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"modelVersion":"{{model}}"}""",
        };
        context.Response.ContentType = call.IsStream ? "text/event-stream" : ResponseWriter.JsonContentType;
        await context.Response.WriteAsync(body, context.RequestAborted);
    }

    private static async Task WriteTruncatedAsync(HttpContext context, FakeCall call)
    {
        var model = call.Model ?? "gemini-2.0-flash";
        var usage = new TokenUsage(8, FakeReply.Tokens(3));
        var body = call.Surface == FakeCall.OpenAi
            ? OpenAiResponses.ChatCompletion("chatcmpl-truncated", DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model, FakeReply.Whole(3), usage)
            : GeminiResponses.GenerateContent(model, "truncated", FakeReply.Whole(3), "STOP", usage);

        // Promise the whole body, send half of it, then drop the connection.
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = ResponseWriter.JsonContentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body.AsMemory(0, body.Length / 2), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        await call.AbortAfterSentAsync(context);
    }
}
