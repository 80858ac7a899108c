using Microsoft.AspNetCore.Http.HttpResults;

namespace GeminiParty.FakeGemini;

/// <summary>The <c>/_fake</c> control API, for tests and benchmarks that run the fake in another process.</summary>
internal static class ControlEndpoints
{
    public static IEndpointRouteBuilder MapFakeControlApi(this IEndpointRouteBuilder app, FakeGeminiState state)
    {
        var control = app.MapGroup("/_fake");
        control.MapPost("/faults", (FaultRequest request) => SetFault(state, request));
        control.MapDelete("/faults", () =>
        {
            state.Faults.Clear();
            return TypedResults.NoContent();
        });
        control.MapPost("/keys/revoke", (KeyRequest request) =>
        {
            state.Revoke(request.Key);
            return TypedResults.NoContent();
        });
        control.MapPost("/keys/restore", (KeyRequest request) =>
        {
            state.Restore(request.Key);
            return TypedResults.NoContent();
        });
        control.MapPost("/reset", () =>
        {
            state.Reset();
            return TypedResults.NoContent();
        });
        control.MapPost("/release-streams", () =>
        {
            state.Streams.ReleaseAll();
            return TypedResults.NoContent();
        });
        control.MapPost("/options", (OptionsPatch patch) => PatchOptions(state.Options, patch));
        control.MapGet("/requests", () => TypedResults.Ok(state.Recorder.Requests.Select(ToView)));
        control.MapGet("/stats", () => TypedResults.Ok(
            new StatsView(state.Recorder.PerKey(), state.Recorder.Total, state.Recorder.Cancelled, state.Streams.Held, state.Connections)));
        return app;
    }

    private static Results<NoContent, BadRequest<string>> SetFault(FakeGeminiState state, FaultRequest request)
    {
        if (string.IsNullOrEmpty(request.Key))
        {
            return TypedResults.BadRequest("key is required");
        }

        if (!FakeFault.TryParse(request.Fault, out var fault))
        {
            return TypedResults.BadRequest(
                $"fault '{request.Fault}' is not one of: {string.Join(", ", Enum.GetNames<FakeFaultKind>())}");
        }

        if (request.RetryDelaySeconds is { } delay)
        {
            fault = fault with { RetryDelaySeconds = delay < 0 ? null : delay };
        }

        if (request.Status is { } status)
        {
            fault = fault with { Status = status };
        }

        state.Faults.Set(request.Key, fault, request.Times ?? int.MaxValue);
        return TypedResults.NoContent();
    }

    private static Results<NoContent, BadRequest<string>> PatchOptions(FakeGeminiOptions options, OptionsPatch patch)
    {
        int?[] numbers = [patch.LatencyMs, patch.StreamEvents, patch.StreamEventDelayMs, patch.StreamIdleBeforeFirstEventMs, patch.StreamIdleAfterFirstEventMs];
        if (numbers.Any(n => n < 0) || patch.StreamEvents == 0)
        {
            return TypedResults.BadRequest("millisecond values must be 0 or more, and streamEvents 1 or more");
        }

        if (patch.LatencyMs is { } latency)
        {
            options.Latency = TimeSpan.FromMilliseconds(latency);
        }

        if (patch.StreamEvents is { } events)
        {
            options.StreamEvents = events;
        }

        if (patch.StreamEventDelayMs is { } delay)
        {
            options.StreamEventDelay = TimeSpan.FromMilliseconds(delay);
        }

        if (patch.HoldStreamsAfterFirstEvent is { } hold)
        {
            options.HoldStreamsAfterFirstEvent = hold;
        }

        if (patch.StreamIdleBeforeFirstEventMs is { } idleBefore)
        {
            options.StreamIdleBeforeFirstEvent = TimeSpan.FromMilliseconds(idleBefore);
        }

        if (patch.StreamIdleAfterFirstEventMs is { } idleAfter)
        {
            options.StreamIdleAfterFirstEvent = TimeSpan.FromMilliseconds(idleAfter);
        }

        return TypedResults.NoContent();
    }

    private static RecordedRequestView ToView(RecordedRequest request) => new(
        request.Method, request.Path, request.QueryString, request.ApiKey, request.Surface, request.Model, request.Status,
        Convert.ToBase64String(request.Body), request.Headers);
}
