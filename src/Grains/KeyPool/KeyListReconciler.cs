using Microsoft.Extensions.Logging;

namespace GeminiParty;

/// <summary>
/// Puts the silo's key list in force, one list at a time (a list that arrives during one waits for it). A key's
/// identity is its fingerprint; its index is its place in the list when this activation first saw it, and it does not
/// change while the activation lives: a key added by a reload takes the next index, a removed key keeps its index (and
/// its history, shown as removed) and gets it back if it returns. A new activation numbers the keys in list order again.
/// </summary>
internal sealed partial class KeyListReconciler(
    PoolKeys keys,
    PoolRotations rotations,
    KeyWithdrawals withdrawals,
    Func<string, IKeyGrain> keyGrain,
    KeyPoolOptions options,
    TimeProvider time,
    ILogger logger)
{
    private Task _reconciling = Task.CompletedTask;

    /// <summary>The list last put in force; null before the first.</summary>
    public IReadOnlyList<ConfiguredKey>? Applied { get; private set; }

    public Task ReconcileAsync(IReadOnlyList<ConfiguredKey> list) => _reconciling = ReconcileAfterAsync(_reconciling, list);

    private async Task ReconcileAfterAsync(Task previous, IReadOnlyList<ConfiguredKey> list)
    {
        try
        {
            await previous;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // that list was not applied (a key grain did not answer): this one, or the next check, applies a list again
            LogReconcileFailed(logger, ex);
        }
        if (ReferenceEquals(list, Applied))
        {
            return;
        }
        var listed = new Dictionary<string, KeyAttributes>(StringComparer.Ordinal);
        foreach (var key in list)
        {
            listed.TryAdd(key.Fingerprint, key.Attributes);
        }
        var added = listed.Keys.Where(fingerprint => !keys.Contains(fingerprint)).ToArray();
        var addedGrains = added.Select(keyGrain).ToArray();
        var records = await Task.WhenAll(addedGrains.Select(grain => grain.GetAsync()));

        // from here on, no await until the new list is in force: leases see the old list or the new one
        var now = time.GetUtcNow();
        var first = Applied is null;
        var current = keys.Slots;
        var slots = new KeySlot[current.Length + added.Length];
        current.CopyTo(slots, 0);
        var grains = new IKeyGrain[slots.Length];
        for (var i = 0; i < current.Length; i++)
        {
            grains[i] = keys.Grain(current[i].Alias);
        }
        for (var i = 0; i < added.Length; i++)
        {
            var index = current.Length + i;
            var slot = new KeySlot(new KeyAlias(index, added[i]), listed[added[i]]);
            rotations.Learn(records[i]);
            Restore(slot, records[i], now);
            slots[index] = slot;
            grains[index] = addedGrains[i];
            if (!first)
            {
                LogAdded(logger, index, added[i]);
            }
        }
        var removedNow = new List<KeySlot>();
        foreach (var slot in slots)
        {
            if (listed.TryGetValue(slot.Alias.Fingerprint, out var attributes))
            {
                if (slot.Removed)
                {
                    LogReturned(logger, slot.Alias.Index, slot.Alias.Fingerprint);
                }
                slot.Removed = false;
                slot.Attributes = attributes;
            }
            else if (!slot.Removed)
            {
                slot.Removed = true;
                removedNow.Add(slot);
                LogRemoved(logger, slot.Alias.Index, slot.Alias.Fingerprint);
            }
        }
        keys.Replace(slots, grains);
        Applied = list;
        rotations.StartOver(now);
        // calls already under way finish with the key; frontends holding it ahead drop it now
        await Task.WhenAll(removedNow.Select(slot => withdrawals.Withdraw(slot.Alias, model: null)));
    }

    /// <summary>A new slot's state as its key grain stored it.</summary>
    private void Restore(KeySlot slot, KeyRecord record, DateTimeOffset now)
    {
        slot.Invalid = record.Invalid;
        slot.Disabled = record.Disabled;
        slot.Probe = record.Probe?.Clone();
        if (slot.Invalid is not null && slot.Probe?.NextAt is null)
        {
            // marked invalid before keys were probed: schedule its first probe
            (slot.Probe ??= new ProbeRecord()).NextAt = now + options.ProbeDelay(0);
        }
        foreach (var (model, cooldown) in record.Cooldowns)
        {
            if (cooldown.Until > now && rotations.IsKnown(model))
            {
                slot.Cooldowns[model] = cooldown;
            }
        }
        foreach (var (model, counters) in record.Models)
        {
            // names stored before models had to be known (made-up ones, say) are shown together
            slot.AddLifetime(rotations.Bucket(model), counters);
        }
    }

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}) added to the pool")]
    private static partial void LogAdded(ILogger logger, int index, string fingerprint);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Key #{Index} ({Fingerprint}) removed from the pool: no new request gets it; its history stays")]
    private static partial void LogRemoved(ILogger logger, int index, string fingerprint);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "Key #{Index} ({Fingerprint}) is back in the key list")]
    private static partial void LogReturned(ILogger logger, int index, string fingerprint);

    [LoggerMessage(EventId = 1019, Level = LogLevel.Warning, Message = "A key list change was not applied; the next check tries again")]
    private static partial void LogReconcileFailed(ILogger logger, Exception exception);
}
