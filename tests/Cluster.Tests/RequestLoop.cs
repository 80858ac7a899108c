using System.Collections.Concurrent;
using System.Diagnostics;

namespace GeminiParty.Cluster.Tests;

/// <summary>One request as a client saw it: when it started and ended (from the loop's start) and its status.</summary>
public sealed record LoopCall(int Frontend, TimeSpan Start, TimeSpan End, int Status)
{
    /// <summary>Far above a normal call through the cluster to the fake upstream (a few ms).</summary>
    public static readonly TimeSpan SlowThreshold = TimeSpan.FromSeconds(1);

    public bool Succeeded => Status == 200;

    public TimeSpan Duration => End - Start;

    /// <summary>Failed, or took long enough for a user to notice.</summary>
    public bool Disturbed => !Succeeded || Duration > SlowThreshold;

    public override string ToString() => $"{Start.TotalSeconds:0.00}s-{End.TotalSeconds:0.00}s fe{Frontend + 1}:{Status}";
}

/// <summary>
/// Clients that keep calling generateContent through every frontend (one caller per frontend, a short pause between
/// calls) while a test breaks something, recording what each call got.
/// </summary>
public sealed class RequestLoop : IAsyncDisposable
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(50);
    private readonly ClusterFixture _cluster;
    private readonly string _model;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<LoopCall> _calls = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan?[] _inFlightSince;
    private readonly Task[] _callers;

    public RequestLoop(ClusterFixture cluster, string model)
    {
        _cluster = cluster;
        _model = model;
        _inFlightSince = new TimeSpan?[cluster.Frontends.Count];
        _callers = Enumerable.Range(0, cluster.Frontends.Count).Select(frontend => Task.Run(() => CallAsync(frontend))).ToArray();
    }

    /// <summary>Time since the loop started, on the clock of <see cref="LoopCall"/>.</summary>
    public TimeSpan Now => _clock.Elapsed;

    public IReadOnlyList<LoopCall> Calls => [.. _calls.OrderBy(call => call.Start)];

    /// <summary>Waits until <paramref name="count"/> calls that started after <paramref name="since"/> have succeeded.</summary>
    public async Task WaitForSuccessesAsync(int count, TimeSpan since, TimeSpan timeout)
    {
        var deadline = Now + timeout;
        while (_calls.Count(call => call.Start >= since && call.Succeeded) < count)
        {
            Assert.True(Now < deadline, $"fewer than {count} successful calls since {since.TotalSeconds:0.0}s after {timeout.TotalSeconds:0}s: {Summary()}\n{_cluster.Diagnostics()}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Waits until calls have gone through undisturbed (a 200 in under <see cref="LoopCall.SlowThreshold"/>) for
    /// <paramref name="quiet"/>, counted from <paramref name="since"/> or from the end of the last disturbed call,
    /// whichever is later, with no call hanging; or until <paramref name="timeout"/>.
    /// </summary>
    public async Task WaitForSteadySuccessAsync(TimeSpan since, TimeSpan quiet, TimeSpan timeout)
    {
        var deadline = Now + timeout;
        while (Now < deadline)
        {
            var lastDisturbed = _calls.Where(call => call.Disturbed).Select(call => call.End).DefaultIfEmpty(since).Max();
            var from = lastDisturbed > since ? lastDisturbed : since;
            var hanging = _inFlightSince.Any(start => start is { } started && Now - started > LoopCall.SlowThreshold);
            var recent = _calls.Count(call => call.Start >= from);
            if (Now - from >= quiet && !hanging && recent >= 4)
            {
                return;
            }
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// How long after <paramref name="since"/> clients were still affected: the end of the last call that failed or
    /// was slow, minus <paramref name="since"/> (zero when none was).
    /// </summary>
    public TimeSpan DisturbedFor(TimeSpan since)
    {
        var lastDisturbed = _calls.Where(call => call.Disturbed && call.End > since).Select(call => call.End).DefaultIfEmpty(since).Max();
        return lastDisturbed - since;
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_callers);
    }

    /// <summary>Calls that failed or were slow, for assertion messages.</summary>
    public string Summary()
    {
        var calls = Calls;
        var disturbed = calls.Where(call => call.Disturbed).ToArray();
        return $"{calls.Count} calls, {calls.Count(call => !call.Succeeded)} failed, {disturbed.Length} failed or slow: [{string.Join(", ", disturbed.Take(30))}]";
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task CallAsync(int frontend)
    {
        while (!_stop.IsCancellationRequested)
        {
            var start = Now;
            _inFlightSince[frontend] = start;
            int status;
            try
            {
                status = await _cluster.GenerateAsync(frontend, _model, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (TaskCanceledException)
            {
                status = -1; // the client's own timeout
            }
            _calls.Enqueue(new LoopCall(frontend, start, Now, status));
            _inFlightSince[frontend] = null;
            try
            {
                await Task.Delay(Pause, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
