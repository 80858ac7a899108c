using System.Globalization;

namespace GeminiParty;

/// <summary>
/// The pool's key list in memory: each key's slot by index, which keys no model may lease, the quota groups, and each
/// key's grain. The arrays are replaced, never resized, when the list changes (<see cref="Replace"/>): a rotation holds
/// the arrays of the list it was made for.
/// </summary>
internal sealed class PoolKeys
{
    private readonly Dictionary<string, int> _byFingerprint = new(StringComparer.Ordinal);

    /// <summary>Each slot's key grain, by key index: resolved once, since GetGrain reads attributes by reflection on every call.</summary>
    private IKeyGrain[] _grains = [];

    public KeySlot[] Slots { get; private set; } = [];

    /// <summary>Which keys no model may lease (invalid, disabled, removed), by index, read by every rotation on each lease.</summary>
    public bool[] Out { get; private set; } = [];

    /// <summary>The keys of each quota group, by <see cref="KeySlot.Group"/>.</summary>
    public int[][] Groups { get; private set; } = [];

    /// <summary>Whether no key may be leased at all (every key invalid, disabled or removed).</summary>
    public bool AllOut => Array.TrueForAll(Slots, slot => slot.IsOut);

    public bool Contains(string fingerprint) => _byFingerprint.ContainsKey(fingerprint);

    public KeySlot? ByFingerprint(string fingerprint) =>
        _byFingerprint.TryGetValue(fingerprint, out var index) ? Slots[index] : null;

    /// <summary>The slot of a reported key: by index, or by fingerprint when the report predates this activation's numbering.</summary>
    public KeySlot? SlotFor(KeyAlias key) =>
        (uint)key.Index < (uint)Slots.Length && Slots[key.Index].Alias.Fingerprint == key.Fingerprint
            ? Slots[key.Index]
            : ByFingerprint(key.Fingerprint);

    /// <summary>A key by index or fingerprint, as an operator names it.</summary>
    public KeySlot? Find(string target)
    {
        var trimmed = target.Trim().TrimStart('#');
        if (int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && (uint)index < (uint)Slots.Length)
        {
            return Slots[index];
        }
        return ByFingerprint(trimmed.ToLowerInvariant());
    }

    public IKeyGrain Grain(KeyAlias alias) => _grains[alias.Index];

    /// <summary>Brings the key's out mark in line with its slot, after a mark was set or cleared.</summary>
    public void UpdateOut(KeySlot slot) => Out[slot.Alias.Index] = slot.IsOut;

    /// <summary>Puts a new list in force: <paramref name="slots"/> extends the current one (indexes never change).</summary>
    public void Replace(KeySlot[] slots, IKeyGrain[] grains)
    {
        for (var index = Slots.Length; index < slots.Length; index++)
        {
            _byFingerprint[slots[index].Alias.Fingerprint] = index;
        }
        Slots = slots;
        _grains = grains;
        Out = slots.Select(slot => slot.IsOut).ToArray();
        Groups = Group(slots);
    }

    /// <summary>Numbers the quota groups: keys with one project share a group; every other key has its own.</summary>
    private static int[][] Group(KeySlot[] slots)
    {
        var byProject = new Dictionary<string, int>(StringComparer.Ordinal);
        var members = new List<List<int>>();
        foreach (var slot in slots)
        {
            var project = slot.Removed ? null : slot.Attributes.Project;
            if (project is null || !byProject.TryGetValue(project, out var group))
            {
                group = members.Count;
                members.Add([]);
                if (project is not null)
                {
                    byProject[project] = group;
                }
            }
            slot.Group = group;
            members[group].Add(slot.Alias.Index);
        }
        return members.Select(list => list.ToArray()).ToArray();
    }
}
