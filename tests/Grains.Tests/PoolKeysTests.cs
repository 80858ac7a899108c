namespace GeminiParty.Grains.Tests;

/// <summary>The pool's key list in memory: how an operator's name finds a key, and which keys share a quota.</summary>
public sealed class PoolKeysTests
{
    [Fact]
    public void An_operator_finds_a_key_by_its_index_or_by_its_fingerprint_in_any_case()
    {
        var keys = Keys(new KeyAttributes(), new KeyAttributes(), new KeyAttributes());

        Assert.Equal(1, keys.Find("#1")?.Alias.Index);
        Assert.Equal(2, keys.Find(" 2 ")?.Alias.Index);
        Assert.Equal(2, keys.Find("FINGERPRINT2")?.Alias.Index);
        Assert.Null(keys.Find("3"));
        Assert.Null(keys.Find("-1"));
    }

    [Fact]
    public void A_report_from_before_a_renumbering_reaches_its_key_by_fingerprint()
    {
        var keys = Keys(new KeyAttributes(), new KeyAttributes());

        Assert.Equal(1, keys.SlotFor(new KeyAlias(0, "fingerprint1"))?.Alias.Index);
        Assert.Null(keys.SlotFor(new KeyAlias(0, "fingerprint9")));
    }

    [Fact]
    public void Keys_of_one_project_share_a_quota_group_and_a_removed_key_leaves_it()
    {
        var keys = new PoolKeys();
        var slots = new[]
        {
            Slot(0, new KeyAttributes("p")), Slot(1, new KeyAttributes("p")), Slot(2, new KeyAttributes()), Slot(3, new KeyAttributes("p")),
        };
        slots[3].Removed = true;

        keys.Replace(slots, new IKeyGrain[slots.Length]);

        Assert.Equal([0, 1], keys.Groups[slots[0].Group]);
        Assert.Equal(slots[0].Group, slots[1].Group);
        Assert.Equal([2], keys.Groups[slots[2].Group]);
        Assert.Equal([3], keys.Groups[slots[3].Group]);
        Assert.Equal([false, false, false, true], keys.Out);
    }

    [Fact]
    public void A_list_that_grows_keeps_the_indexes_of_the_keys_it_had()
    {
        var keys = Keys(new KeyAttributes(), new KeyAttributes());
        var grown = keys.Slots.Append(Slot(2, new KeyAttributes())).ToArray();

        keys.Replace(grown, new IKeyGrain[grown.Length]);

        Assert.Equal(2, keys.Find("fingerprint2")?.Alias.Index);
        Assert.Equal(0, keys.Find("fingerprint0")?.Alias.Index);
    }

    private static PoolKeys Keys(params KeyAttributes[] attributes)
    {
        var keys = new PoolKeys();
        keys.Replace(attributes.Select((a, i) => Slot(i, a)).ToArray(), new IKeyGrain[attributes.Length]);
        return keys;
    }

    private static KeySlot Slot(int index, KeyAttributes attributes) => new(new KeyAlias(index, $"fingerprint{index}"), attributes);
}
