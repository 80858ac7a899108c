namespace GeminiParty.FakeGemini;

/// <summary>
/// A fake Gemini upstream on a loopback port, for tests: it answers the native and OpenAI-compatible APIs,
/// records every request, and misbehaves on demand per key.
/// </summary>
public sealed class FakeGeminiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly FakeGeminiState _state;

    private FakeGeminiServer(WebApplication app, FakeGeminiState state, string baseAddress)
    {
        _app = app;
        _state = state;
        BaseAddress = baseAddress;
        BaseUrl = new Uri(baseAddress);
    }

    /// <summary>Starts a server on http://127.0.0.1 with a free port.</summary>
    public static async Task<FakeGeminiServer> StartAsync(FakeGeminiOptions? options = null, CancellationToken cancellationToken = default)
    {
        var state = new FakeGeminiState(options ?? new FakeGeminiOptions());
        var app = FakeGeminiApp.Build(state, [], forcedUrls: "http://127.0.0.1:0");
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new FakeGeminiServer(app, state, app.Urls.First().TrimEnd('/'));
    }

    /// <summary>For example http://127.0.0.1:41234 (no trailing slash).</summary>
    public string BaseAddress { get; }

    public Uri BaseUrl { get; }

    /// <summary>The live options: changes apply to the next request (except ValidKeys and FastMode).</summary>
    public FakeGeminiOptions Options => _state.Options;

    /// <summary>Requests that have completed, in completion order (empty in fast mode).</summary>
    public IReadOnlyList<RecordedRequest> Requests => _state.Recorder.Requests;

    /// <summary>All API requests, counted on arrival.</summary>
    public int TotalRequests => _state.Recorder.Total;

    /// <summary>Requests the client abandoned while the fake was still working on them.</summary>
    public int CancelledRequests => _state.Recorder.Cancelled;

    /// <summary>The Live API endpoint: scripted refusals per key, and the sessions seen.</summary>
    public FakeLiveState Live => _state.Live;

    /// <summary>
    /// Streams held by <see cref="FakeGeminiOptions.HoldStreamsAfterFirstEvent"/>, counted from just before their first
    /// event is written: a client that has read that event finds its stream here.
    /// </summary>
    public int HeldStreams => _state.Streams.Held;

    /// <summary>Requests that carried this key, counted on arrival (so held or hanging ones count too).</summary>
    public int CountFor(string apiKey) => _state.Recorder.CountFor(apiKey);

    /// <summary>From now on the key is refused with 400 API_KEY_INVALID (control API: POST /_fake/keys/revoke).</summary>
    public void RevokeKey(string apiKey) => _state.Revoke(apiKey);

    /// <summary>The key is accepted again (control API: POST /_fake/keys/restore).</summary>
    public void RestoreKey(string apiKey) => _state.Restore(apiKey);

    /// <summary>
    /// The next <paramref name="times"/> requests with this key get the fault (checked before key validity);
    /// replaces any earlier script for the key.
    /// </summary>
    public void SetFault(string apiKey, FakeFault fault, int times = int.MaxValue) => _state.Faults.Set(apiKey, fault, times);

    public void ClearFaults() => _state.Faults.Clear();

    /// <summary>Lets the currently held streams finish.</summary>
    public void ReleaseStreams() => _state.Streams.ReleaseAll();

    /// <summary>Forgets recorded requests, counts and faults; options stay as they are.</summary>
    public void Reset() => _state.Reset();

    /// <summary>Polls until the condition holds, for assertions on things that happen after the client returns.</summary>
    public async Task WaitUntilAsync(Func<FakeGeminiServer, bool> condition, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? TimeSpan.FromSeconds(10));
        while (!condition(this))
        {
            try
            {
                await Task.Delay(10, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException("FakeGeminiServer: the awaited condition did not hold in time");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _state.Streams.ReleaseAll();
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _app.StopAsync(stopTimeout.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
