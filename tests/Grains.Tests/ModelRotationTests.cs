namespace GeminiParty.Grains.Tests;

/// <summary>The rotation rule (tier, then project, then weight) and its bound, on the rotation itself.</summary>
public sealed class ModelRotationTests
{
    private const string Model = "gemini-2.0-flash";
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Weights_give_each_key_its_weight_per_round_exactly()
    {
        var rotation = Rotation(out _, Key(weight: 1), Key(weight: 2), Key(weight: 3));
        var counts = new int[3];
        for (var n = 1; n <= 600; n++)
        {
            counts[Next(rotation)]++;
            for (var k = 0; k < 3; k++)
            {
                // the stated bound: within the key's weight of its share n × weight / W
                Assert.True(Math.Abs(counts[k] - n * (k + 1) / 6.0) <= k + 1, $"key {k} after {n}: {counts[k]}");
            }
            if (n % 6 == 0)
            {
                Assert.Equal([n / 6, 2 * n / 6, 3 * n / 6], counts); // every round exact
            }
        }
    }

    [Fact]
    public void Two_keys_of_one_project_share_one_turn_and_never_serve_back_to_back()
    {
        // keys 0 and 1 are one project (one quota); 2 and 3 are projects of their own
        var rotation = Rotation(out _, Key("p"), Key("p"), Key(), Key());
        var sequence = Enumerable.Range(0, 60).Select(_ => Next(rotation)).ToArray();

        var counts = sequence.CountBy(i => i).ToDictionary();
        Assert.Equal(10, counts[0]);
        Assert.Equal(10, counts[1]);
        Assert.Equal(20, counts[2]);
        Assert.Equal(20, counts[3]);
        for (var i = 1; i < sequence.Length; i++)
        {
            Assert.False(sequence[i] <= 1 && sequence[i - 1] <= 1, $"project p served twice in a row at {i}");
        }
    }

    [Fact]
    public void Paid_keys_serve_only_when_no_free_key_can()
    {
        var rotation = Rotation(out var @out, Key(tier: KeyTier.Paid), Key(), Key());
        Assert.All(Enumerable.Range(0, 20).Select(_ => Next(rotation)), index => Assert.NotEqual(0, index));

        // a request that tried both free keys overflows to the paid one
        var taken = new List<int>();
        rotation.Take(Now, [1, 2], 1, taken);
        Assert.Equal([0], taken);

        @out[1] = @out[2] = true; // both free keys out: the paid key serves
        Assert.All(Enumerable.Range(0, 5).Select(_ => Next(rotation)), index => Assert.Equal(0, index));
    }

    [Fact]
    public void Paid_first_reverses_the_tiers()
    {
        var rotation = Rotation(out _, paidFirst: true, Key(tier: KeyTier.Paid), Key(), Key(tier: KeyTier.Paid));
        Assert.Equal([0, 2, 0, 2], Enumerable.Range(0, 4).Select(_ => Next(rotation)));
    }

    [Fact]
    public void A_cooling_key_returns_at_the_tail_with_the_weights_kept()
    {
        var slots = new[] { Key(weight: 2), Key() };
        var rotation = Rotation(out _, slots);
        slots[0].Cooldowns[Model] = new Cooldown(Now.AddMinutes(1), "429");
        rotation.ScheduleReturn(0, Now.AddMinutes(1));
        Assert.All(Enumerable.Range(0, 5).Select(_ => Next(rotation)), index => Assert.Equal(1, index));

        var later = Now.AddMinutes(2);
        var counts = Enumerable.Range(0, 300).Select(_ => Next(rotation, later)).CountBy(i => i).ToDictionary();
        Assert.Equal(200, counts[0]);
        Assert.Equal(100, counts[1]);
    }

    [Fact]
    public void Excluded_keys_are_skipped_and_none_left_means_an_empty_take()
    {
        var rotation = Rotation(out _, Key("p"), Key("p"), Key());
        var taken = new List<int>();
        rotation.Take(Now, [0, 1, 2], 1, taken);
        Assert.Empty(taken);
        rotation.Take(Now, [0, 2], 1, taken);
        Assert.Equal([1], taken);
    }

    private static KeySlot Key(string? project = null, KeyTier tier = KeyTier.Free, int weight = 1) =>
        new(new KeyAlias(0, "x"), new KeyAttributes(project, tier, weight));

    private static ModelRotation Rotation(out bool[] @out, params KeySlot[] keys) => Rotation(out @out, paidFirst: false, keys);

    private static ModelRotation Rotation(out bool[] @out, bool paidFirst, params KeySlot[] keys)
    {
        var groups = new Dictionary<string, int>();
        for (var i = 0; i < keys.Length; i++)
        {
            var project = keys[i].Attributes.Project;
            keys[i].Group = project is null ? 1000 + i : groups.TryGetValue(project, out var g) ? g : groups[project] = i;
        }
        @out = new bool[keys.Length];
        return new ModelRotation(Model, keys, @out, paidFirst, Now);
    }

    private static int Next(ModelRotation rotation, DateTimeOffset? at = null)
    {
        var taken = new List<int>(1);
        rotation.Take(at ?? Now, null, 1, taken);
        return Assert.Single(taken);
    }
}
