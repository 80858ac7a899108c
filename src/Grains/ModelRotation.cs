namespace GeminiParty;

/// <summary>
/// Round robin for one model. Usable keys wait in a ring; each lease takes the head and puts it back at the tail.
/// Keys that fail are dropped from the ring lazily when they reach the head, and a key whose cooldown ends is appended
/// at the tail, so it gets its turn like every other key instead of a burst. A lease costs O(1) amortised, whatever the
/// number of keys. Whether the key at the head is usable is read from dense arrays (the pool's invalid marks, this
/// model's cooldown ends), not from the key's slot: at 10,000 keys the slots are megabytes, and reading one per lease
/// cost a cache miss or more (bench/PoolBench); the slots stay the record, and these arrays follow them.
/// </summary>
internal sealed class ModelRotation
{
    private readonly string _model;
    private readonly KeySlot[] _slots;
    private readonly Queue<int> _ring;
    private readonly bool[] _inRing;
    private readonly bool[] _invalid;
    private readonly long[] _coolingUntilTicks;
    private readonly PriorityQueue<int, DateTimeOffset> _returning = new();

    /// <param name="invalid">The pool's invalid marks by key index, shared by every model's rotation and kept by the pool.</param>
    public ModelRotation(string model, KeySlot[] slots, bool[] invalid, DateTimeOffset now)
    {
        _model = model;
        _slots = slots;
        _invalid = invalid;
        _ring = new Queue<int>(slots.Length);
        _inRing = new bool[slots.Length];
        _coolingUntilTicks = new long[slots.Length];
        for (var i = 0; i < slots.Length; i++)
        {
            var cooling = slots[i].CoolingUntil(model, now);
            _coolingUntilTicks[i] = cooling?.UtcTicks ?? 0;
            if (IsUsable(i, now.UtcTicks))
            {
                _ring.Enqueue(i);
                _inRing[i] = true;
            }
            else if (cooling is { } until)
            {
                _returning.Enqueue(i, until);
            }
        }
    }

    /// <summary>
    /// Takes the next <paramref name="count"/> usable keys not in <paramref name="exclude"/> in ring order, moving each
    /// from the head of the ring to its tail, and adds them to <paramref name="taken"/>. More keys than the ring holds
    /// go round it again, so every key appears once per turn; fewer come back only when no key is usable.
    /// </summary>
    public void Take(DateTimeOffset now, int[]? exclude, int count, List<int> taken)
    {
        ReturnRecovered(now);
        var nowTicks = now.UtcTicks;
        var wanted = taken.Count + count;
        while (taken.Count < wanted)
        {
            var before = taken.Count;
            for (var tries = _ring.Count; tries > 0 && taken.Count < wanted; tries--)
            {
                var index = _ring.Dequeue();
                if (!IsUsable(index, nowTicks))
                {
                    _inRing[index] = false;
                    continue;
                }
                _ring.Enqueue(index);
                if (exclude is null || Array.IndexOf(exclude, index) < 0)
                {
                    taken.Add(index);
                }
            }
            if (taken.Count == before)
            {
                return; // a whole turn found nothing usable
            }
        }
    }

    /// <summary>Schedules a cooling key to rejoin the ring when its cooldown ends.</summary>
    public void ScheduleReturn(int index, DateTimeOffset until)
    {
        _coolingUntilTicks[index] = until.UtcTicks;
        _returning.Enqueue(index, until);
    }

    private bool IsUsable(int index, long nowTicks) => !_invalid[index] && _coolingUntilTicks[index] <= nowTicks;

    /// <summary>When the first key that is cooling (not invalid) returns, if any.</summary>
    public DateTimeOffset? EarliestReturn(DateTimeOffset now)
    {
        DateTimeOffset? earliest = null;
        foreach (var (index, _) in _returning.UnorderedItems)
        {
            if (_slots[index].Invalid is null && _slots[index].CoolingUntil(_model, now) is { } until && (earliest is null || until < earliest))
            {
                earliest = until;
            }
        }
        return earliest;
    }

    private void ReturnRecovered(DateTimeOffset now)
    {
        while (_returning.TryPeek(out var index, out var until) && until <= now)
        {
            _returning.Dequeue();
            var slot = _slots[index];
            if (slot.CoolingUntil(_model, now) is { } later)
            {
                _returning.Enqueue(index, later); // cooled again meanwhile
            }
            else if (slot.Invalid is null && !_inRing[index])
            {
                _ring.Enqueue(index);
                _inRing[index] = true;
            }
        }
    }
}
