namespace GeminiParty.FakeGemini;

/// <summary>Plays a stream event by event, honouring the pacing options, the test gate and MidStreamFailure.</summary>
internal static class StreamPlayer
{
    public static async Task PlayAsync(
        HttpContext context, FakeCall call, FakeGeminiState state, StreamFraming framing, int count, Func<int, byte[]> eventAt)
    {
        var options = state.Options;
        var response = context.Response;
        var cancellationToken = context.RequestAborted;

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = framing.ContentType;
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync(cancellationToken);
        if (options.StreamIdleBeforeFirstEvent > TimeSpan.Zero)
        {
            await response.Body.FlushAsync(cancellationToken);
            await Task.Delay(options.StreamIdleBeforeFirstEvent, cancellationToken);
        }

        // Position `count` is the end marker; a MidStreamFailure aborts in its place at the latest.
        HeldStream? held = null;
        try
        {
            for (var i = 0; i <= count; i++)
            {
                if (i == 1)
                {
                    await AfterFirstEventAsync(state, held, cancellationToken);
                }

                if (i > 0 && i < count && options.StreamEventDelay > TimeSpan.Zero)
                {
                    await Task.Delay(options.StreamEventDelay, cancellationToken);
                }

                if (call.AbortBeforeEvent is { } failAt && (i >= failAt || i == count))
                {
                    await call.AbortAfterSentAsync(context);
                    return;
                }

                if (i == 0 && i < count && options.HoldStreamsAfterFirstEvent)
                {
                    held = state.Streams.Hold();
                }

                var bytes = i < count ? framing.Frame(i, eventAt(i)) : framing.End;
                await response.Body.WriteAsync(bytes, cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            held?.Dispose();
        }
    }

    private static async Task AfterFirstEventAsync(FakeGeminiState state, HeldStream? held, CancellationToken cancellationToken)
    {
        if (held is not null)
        {
            await held.WaitAsync(cancellationToken);
        }

        if (state.Options.StreamIdleAfterFirstEvent > TimeSpan.Zero)
        {
            await Task.Delay(state.Options.StreamIdleAfterFirstEvent, cancellationToken);
        }
    }
}
