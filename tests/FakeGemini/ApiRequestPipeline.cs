using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace GeminiParty.FakeGemini;

/// <summary>
/// Runs before every API endpoint: reads key, model and body, records the request, and applies latency,
/// auth and scripted faults in the order Google would.
/// </summary>
internal sealed class ApiRequestPipeline(FakeGeminiState state)
{
    /// <summary>Per-request fault for clients that cannot reach the in-process API, e.g. <c>x-fake-fault: Overloaded503</c>.</summary>
    public const string FaultHeader = "x-fake-fault";

    /// <summary>
    /// Asks for the response headers a proxy must sort: Google's own (x-goog-*, Server-Timing) it must pass back, a
    /// cookie and a header named in Connection (hop-by-hop) it must not.
    /// </summary>
    public const string ExtraHeadersHeader = "x-fake-extra-response-headers";

    private static void AddExtraResponseHeaders(HttpResponse response)
    {
        response.Headers["x-goog-fake-trace"] = "fake-trace-1";
        response.Headers["Server-Timing"] = "fake-model;dur=12.5";
        response.Headers["Set-Cookie"] = "upstream-session=abc; Path=/";
        response.Headers["x-fake-hop"] = "hop-value";
        response.Headers.Connection = "x-fake-hop";
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path.Value ?? "";
        var surface = ApiPaths.SurfaceOf(path);
        if (surface is null)
        {
            await next(context);
            return;
        }

        using var call = new FakeCall(surface) { ApiKey = ReadApiKey(context.Request, surface) };
        context.Features.Set(call);
        call.Arrival = state.Recorder.Arrived(call.ApiKey);
        var finished = false;
        var recorded = 0;
        // Record just before the first response byte leaves: a client that has its answer must find its request
        // recorded. Requests that never answer (resets, hangs, cancellations) are recorded when they end.
        context.Response.OnStarting(() =>
        {
            if (Interlocked.Exchange(ref recorded, 1) == 0)
            {
                Record(context, call, finished: true);
            }
            return Task.CompletedTask;
        });
        try
        {
            call.RawBody = await ReadBodyAsync(context.Request, context.RequestAborted);
            call.Body = RequestBodyDecoding.Decode(context.Request, call.RawBody);
            if (RequestBodyDecoding.IsMultipart(context.Request))
            {
                call.FormFields = await RequestBodyDecoding.ReadFormFieldsAsync(context.Request, call.Body, context.RequestAborted);
            }

            if (surface == FakeCall.Native)
            {
                ApiPaths.DescribeNative(path, call);
            }
            else if (call.FormFields is { } fields)
            {
                call.Model = fields.TryGetValue("model", out var model) ? ApiPaths.StripModelsPrefix(model) : null;
            }
            else
            {
                ApiPaths.DescribeOpenAiModelPath(path, call);
                OpenAiRequestPeek.Read(call.Body, call);
            }

            if (context.Request.Headers.ContainsKey(ExtraHeadersHeader))
            {
                AddExtraResponseHeaders(context.Response);
            }

            if (surface == FakeCall.Native && !path.StartsWith("/upload/", StringComparison.Ordinal) && IsJson(context.Request)
                && call.Body.Length > 0 && !IsJsonObject(call.Body))
            {
                // Google reads every JSON body as a request message (an upload's chunks are bytes): anything else is the caller's mistake
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Invalid JSON payload received. Expected a JSON object of UTF-8 text."));
                finished = true;
                return;
            }
            await HandleAsync(context, call, next);
            finished = true;
        }
        catch (Exception ex) when (IsUnreadableBody(ex) && !context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            // a form or JSON body the fake could not read: Google answers those 400, never 500
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest("Invalid payload received: the request body could not be read."),
                wrapInArray: surface == FakeCall.OpenAi);
            finished = true;
        }
        catch (Exception) when (call.AbortedByFake || context.RequestAborted.IsCancellationRequested)
        {
            // Broken on purpose, or the client went away: there is nobody left to answer.
        }
        finally
        {
            if (Interlocked.Exchange(ref recorded, 1) == 0)
            {
                Record(context, call, finished);
            }
        }
    }

    private static bool IsJson(HttpRequest request) =>
        request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true;

    private static bool IsJsonObject(byte[] body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return false;
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>What reading a body the caller broke throws: malformed JSON, a form that is not one, text that is not UTF-8.</summary>
    private static bool IsUnreadableBody(Exception ex) =>
        ex is JsonException or InvalidDataException or System.Text.DecoderFallbackException
        || (ex is InvalidOperationException && ex.Source == "System.Text.Json");

    private async Task HandleAsync(HttpContext context, FakeCall call, RequestDelegate next)
    {
        var options = state.Options;
        if (options.Latency > TimeSpan.Zero)
        {
            await Task.Delay(options.Latency, context.RequestAborted);
        }

        if (call.ApiKey is null)
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.MissingKey());
            return;
        }

        var headerFault = context.Request.Headers[FaultHeader];
        FakeFault? fault;
        if (!StringValues.IsNullOrEmpty(headerFault))
        {
            if (!FakeFault.TryParse(headerFault, out var parsed))
            {
                await ResponseWriter.WriteErrorAsync(context, GoogleErrors.BadRequest($"{FaultHeader} '{headerFault}' names no FakeFaultKind"));
                return;
            }

            fault = parsed;
        }
        else
        {
            fault = state.Faults.Take(call.ApiKey);
        }

        if (fault is not null && await FaultResponder.ApplyAsync(context, call, fault, state.Stopping))
        {
            return;
        }

        if (!state.IsValidKey(call.ApiKey))
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.InvalidKey());
            return;
        }

        if (!state.FastMode && call.Body.Length > 0 && call.FormFields is null && !context.Request.Query.ContainsKey("upload_id") && !call.TryGetJson(out _))
        {
            await ResponseWriter.WriteErrorAsync(context, GoogleErrors.MalformedJson());
            return;
        }

        await next(context);
    }

    private void Record(HttpContext context, FakeCall call, bool finished)
    {
        int status;
        if (call.AbortedByFake)
        {
            status = 0;
        }
        else if (!finished && context.RequestAborted.IsCancellationRequested)
        {
            status = 499;
            state.Recorder.ClientCancelled();
        }
        else
        {
            status = finished ? context.Response.StatusCode : StatusCodes.Status500InternalServerError;
        }

        if (state.FastMode)
        {
            return;
        }

        var request = context.Request;
        var headers = new Dictionary<string, string>(request.Headers.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = values.ToString();
        }

        state.Recorder.Completed(new RecordedRequest(
            request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", headers, call.RawBody,
            call.ApiKey, call.Surface, call.Model, status, call.Arrival));
    }

    private static string? ReadApiKey(HttpRequest request, string surface)
    {
        string? key;
        if (surface == FakeCall.OpenAi)
        {
            var authorization = request.Headers.Authorization.ToString();
            key = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
        }
        else
        {
            key = request.Headers["x-goog-api-key"].ToString();
            if (string.IsNullOrEmpty(key))
            {
                key = request.Query["key"].ToString();
            }
        }

        return string.IsNullOrEmpty(key) ? null : key;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || request.ContentLength == 0)
        {
            return [];
        }

        if (request.ContentLength is { } length and <= int.MaxValue)
        {
            var body = new byte[length];
            await request.Body.ReadExactlyAsync(body, cancellationToken);
            return body;
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }
}
