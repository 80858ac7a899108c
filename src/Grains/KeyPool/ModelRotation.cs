namespace GeminiParty;

/// <summary>
/// The rotation of one model: which key serves next. Keys are ordered by tier, then project, then weight:
/// <list type="number">
/// <item>Tier: free keys serve; paid keys only when no free key can serve the request (PAID_FIRST reverses the two).</item>
/// <item>Projects: within a tier, quota groups (the keys of one <c>project</c>; a key without one is a group of its own)
/// take turns in a ring. Google meters quota per project, so a group is one quota: it gets as many turns per round as
/// the largest weight among its keys, however many keys it has, and two keys of one project never serve back to back
/// while another group has turns left in the round.</item>
/// <item>Weights: a group hands its turns to its keys in a ring of its own, each key its weight's worth per round of
/// that ring.</item>
/// </list>
/// Bound, while no key changes state: every round of W leases (W the sum of the groups' weights in the serving tier)
/// gives each group exactly its weight, so after n leases a group's count is within its weight of n × weight / W; and
/// every round of a group's ring (the sum of its keys' weights in turns) gives each of its keys exactly its weight.
/// With every weight 1 and no shared projects this is the plain ring, ±1. A key that fails is dropped lazily when its
/// turn comes; a key whose cooldown ends joins its ring's tail, so it gets its turn like every other key instead of a
/// burst. A lease costs O(1) amortised, whatever the number of keys: usability is read from dense arrays (the pool's
/// out marks, this model's cooldown ends), not from the key's slot.
/// </summary>
internal sealed class ModelRotation
{
    private readonly string _model;
    private readonly KeySlot[] _slots;
    private readonly bool[] _out;
    private readonly long[] _coolingUntilTicks;
    private readonly bool[] _inRing;
    private readonly int[] _weight;
    private readonly int[] _credit;
    private readonly int[] _tierOf;
    private readonly TierRing[] _tiers;
    private readonly PriorityQueue<int, DateTimeOffset> _returning = new();
    private long _nowTicks;

    /// <param name="out">The pool's out marks by key index (invalid, disabled, removed), shared by every model's rotation.</param>
    /// <param name="paidFirst">PAID_FIRST: paid keys serve first.</param>
    public ModelRotation(string model, KeySlot[] slots, bool[] @out, bool paidFirst, DateTimeOffset now)
    {
        _model = model;
        _slots = slots;
        _out = @out;
        _coolingUntilTicks = new long[slots.Length];
        _inRing = new bool[slots.Length];
        _weight = new int[slots.Length];
        _credit = new int[slots.Length];
        _tierOf = new int[slots.Length];
        var firstTier = paidFirst ? KeyTier.Paid : KeyTier.Free;
        var groupSizes = new Dictionary<int, int>();
        foreach (var slot in slots)
        {
            groupSizes[slot.Group] = groupSizes.GetValueOrDefault(slot.Group) + 1;
        }
        _tiers = [new TierRing(this), new TierRing(this)];
        for (var i = 0; i < slots.Length; i++)
        {
            _weight[i] = Math.Clamp(slots[i].Attributes.Weight, 1, KeyAttributes.MaxWeight);
            _tierOf[i] = slots[i].Attributes.Tier == firstTier ? 0 : 1;
            _tiers[_tierOf[i]].Place(i, groupSizes[slots[i].Group] > 1 ? slots[i].Group : -1);
        }
        _nowTicks = now.UtcTicks;
        for (var i = 0; i < slots.Length; i++)
        {
            var cooling = slots[i].CoolingUntil(model, now);
            _coolingUntilTicks[i] = cooling?.UtcTicks ?? 0;
            if (IsUsable(i))
            {
                Join(i);
            }
            else if (cooling is { } until)
            {
                _returning.Enqueue(i, until);
            }
        }
    }

    /// <summary>
    /// Takes the next <paramref name="count"/> usable keys not in <paramref name="exclude"/> in turn order and adds them
    /// to <paramref name="taken"/>, from the first tier that has one. More keys than the tier holds go round it again,
    /// so every key appears once per turn; fewer come back only when no key is usable. An excluded key loses its turn.
    /// </summary>
    public void Take(DateTimeOffset now, int[]? exclude, int count, List<int> taken)
    {
        ReturnRecovered(now);
        _nowTicks = now.UtcTicks;
        foreach (var tier in _tiers)
        {
            var before = taken.Count;
            tier.Take(exclude, before + count, taken);
            if (taken.Count > before)
            {
                return;
            }
        }
    }

    /// <summary>Schedules a cooling key to rejoin its ring when its cooldown ends.</summary>
    public void ScheduleReturn(int index, DateTimeOffset until)
    {
        _coolingUntilTicks[index] = until.UtcTicks;
        _returning.Enqueue(index, until);
    }

    /// <summary>Puts a key back in its ring at once if it is usable now (a cooldown cleared, a key enabled or found valid).</summary>
    public void Rejoin(int index, DateTimeOffset now)
    {
        _coolingUntilTicks[index] = _slots[index].CoolingUntil(_model, now)?.UtcTicks ?? 0;
        _nowTicks = now.UtcTicks;
        if (IsUsable(index) && !_inRing[index])
        {
            Join(index);
        }
    }

    /// <summary>Whether some key can serve the model now, without taking a turn.</summary>
    public bool AnyUsable(DateTimeOffset now)
    {
        ReturnRecovered(now);
        for (var i = 0; i < _slots.Length; i++)
        {
            if (IsUsable(i))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>When the first key that is cooling (not out) returns, if any.</summary>
    public DateTimeOffset? EarliestReturn(DateTimeOffset now)
    {
        DateTimeOffset? earliest = null;
        foreach (var (index, _) in _returning.UnorderedItems)
        {
            if (!_out[index] && _slots[index].CoolingUntil(_model, now) is { } until && (earliest is null || until < earliest))
            {
                earliest = until;
            }
        }
        return earliest;
    }

    private bool IsUsable(int index) => !_out[index] && _coolingUntilTicks[index] <= _nowTicks;

    private void Join(int index)
    {
        _inRing[index] = true;
        _credit[index] = _weight[index];
        _tiers[_tierOf[index]].Join(index);
    }

    private void ReturnRecovered(DateTimeOffset now)
    {
        _nowTicks = now.UtcTicks;
        while (_returning.TryPeek(out var index, out var until) && until <= now)
        {
            _returning.Dequeue();
            var slot = _slots[index];
            if (slot.CoolingUntil(_model, now) is { } later)
            {
                _returning.Enqueue(index, later); // cooled again meanwhile
            }
            else if (!_out[index] && !_inRing[index])
            {
                Join(index);
            }
        }
    }

    /// <summary>
    /// One tier's ring of turns. An entry is a key (a group of one) or, stored as <c>~group</c>, a group of several
    /// keys with a ring of its own. A round ends when every entry has used its credit (its weight); the entries
    /// that finished wait in <see cref="_spent"/>, in the order they finished, for the next round.
    /// </summary>
    private sealed class TierRing(ModelRotation rotation)
    {
        private readonly Dictionary<int, GroupRing> _groups = [];
        private readonly Dictionary<int, int> _groupOf = [];
        private Queue<int> _ready = new();
        private Queue<int> _spent = new();
        private readonly List<int> _members = [];

        public void Place(int index, int group)
        {
            _members.Add(index);
            if (group >= 0)
            {
                _groupOf[index] = group;
                if (!_groups.TryGetValue(group, out var ring))
                {
                    _groups[group] = ring = new GroupRing();
                }
                ring.Weight = Math.Max(ring.Weight, rotation._weight[index]);
            }
        }

        public void Join(int index)
        {
            if (!_groupOf.TryGetValue(index, out var group))
            {
                _ready.Enqueue(index);
                return;
            }
            var ring = _groups[group];
            ring.Ready.Enqueue(index);
            if (!ring.InRing)
            {
                ring.InRing = true;
                ring.Credit = ring.Weight;
                _ready.Enqueue(~group);
            }
        }

        public void Take(int[]? exclude, int wanted, List<int> taken)
        {
            // an excluded key loses its turn; after a run of nothing but excluded keys, look whether any other may serve
            var misses = 0;
            var limit = 4 * (exclude?.Length ?? 0) + 8;
            while (taken.Count < wanted)
            {
                var index = Next();
                if (index < 0)
                {
                    return;
                }
                if (exclude is not null && Array.IndexOf(exclude, index) >= 0)
                {
                    if (++misses > limit)
                    {
                        if (!HasUsableOutside(exclude))
                        {
                            return;
                        }
                        misses = 0;
                    }
                    continue;
                }
                misses = 0;
                taken.Add(index);
            }
        }

        private bool HasUsableOutside(int[] exclude) =>
            _members.Exists(index => rotation.IsUsable(index) && Array.IndexOf(exclude, index) < 0);

        /// <summary>The next usable key, or -1 when the tier has none.</summary>
        private int Next()
        {
            while (true)
            {
                if (_ready.Count == 0)
                {
                    if (_spent.Count == 0)
                    {
                        return -1;
                    }
                    (_ready, _spent) = (_spent, _ready);
                    foreach (var entry in _ready)
                    {
                        if (entry >= 0)
                        {
                            rotation._credit[entry] = rotation._weight[entry];
                        }
                        else
                        {
                            _groups[~entry].Credit = _groups[~entry].Weight;
                        }
                    }
                }
                var next = _ready.Dequeue();
                if (next >= 0)
                {
                    if (!rotation.IsUsable(next))
                    {
                        rotation._inRing[next] = false;
                        continue;
                    }
                    (--rotation._credit[next] > 0 ? _ready : _spent).Enqueue(next);
                    return next;
                }
                var ring = _groups[~next];
                var index = ring.Next(rotation);
                if (index < 0)
                {
                    continue; // every key of the group left: so does the group, until one joins again
                }
                (--ring.Credit > 0 ? _ready : _spent).Enqueue(next);
                return index;
            }
        }
    }

    /// <summary>The keys of one quota group in a tier, in a ring of their own with rounds and credits like the tier's.</summary>
    private sealed class GroupRing
    {
        public Queue<int> Ready { get; private set; } = new();
        public Queue<int> Spent { get; private set; } = new();
        public int Credit { get; set; }

        /// <summary>The group's turns per round: the largest weight among its keys (one project, one quota).</summary>
        public int Weight { get; set; }

        public bool InRing { get; set; }

        public int Next(ModelRotation rotation)
        {
            while (true)
            {
                if (Ready.Count == 0)
                {
                    if (Spent.Count == 0)
                    {
                        InRing = false;
                        return -1;
                    }
                    (Ready, Spent) = (Spent, Ready);
                    foreach (var index in Ready)
                    {
                        rotation._credit[index] = rotation._weight[index];
                    }
                }
                var next = Ready.Dequeue();
                if (!rotation.IsUsable(next))
                {
                    rotation._inRing[next] = false;
                    continue;
                }
                (--rotation._credit[next] > 0 ? Ready : Spent).Enqueue(next);
                return next;
            }
        }
    }
}
