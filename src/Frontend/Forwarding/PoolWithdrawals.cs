namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// How the pool reaches this frontend (<see cref="IKeyPoolObserver"/>): a key withdrawn by the pool is dropped from the
/// keys <see cref="KeyLeases"/> holds, and the pool's announcement that it is moving wakes <see cref="PoolSubscription"/>.
/// Made by <see cref="KeyLeases.Withdrawals"/>, whose cache it drops keys from.
/// </summary>
public sealed partial class PoolWithdrawals : IKeyPoolObserver
{
    private readonly KeyLeases _leases;
    private readonly IGrainFactory _grains;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private IKeyPoolObserver? _reference;
    private TaskCompletionSource _poolMoving = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal PoolWithdrawals(KeyLeases leases, IGrainFactory grains, ILogger logger)
    {
        _leases = leases;
        _grains = grains;
        _logger = logger;
    }

    /// <summary>How the pool reaches this frontend; created on first use (a cluster client must be connected first).</summary>
    public IKeyPoolObserver Reference
    {
        get
        {
            lock (_gate)
            {
                return _reference ??= _grains.CreateObjectReference<IKeyPoolObserver>(this);
            }
        }
    }

    /// <summary>
    /// Completes when the pool announces that its activation is going away (<see cref="IKeyPoolObserver.PoolMovingAsync"/>),
    /// so that <see cref="PoolSubscription"/> subscribes to the next one at once; each announcement completes the task
    /// read before it, and later reads get a new one.
    /// </summary>
    public Task PoolMoving => Volatile.Read(ref _poolMoving).Task;

    Task IKeyPoolObserver.PoolMovingAsync()
    {
        Interlocked.Exchange(ref _poolMoving, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return Task.CompletedTask;
    }

    Task IKeyPoolObserver.KeyWithdrawnAsync(KeyWithdrawal withdrawal)
    {
        _leases.Drop(withdrawal.Key.Index, withdrawal.Model, withdrawal.Version);
        LogWithdrawn(_logger, withdrawal.Key.Index, withdrawal.Model ?? "every model");
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 3300, Level = LogLevel.Information, Message = "The pool withdrew key #{KeyIndex} for {Model}; this frontend no longer uses the turn it holds of it")]
    private static partial void LogWithdrawn(ILogger logger, int keyIndex, string model);
}
