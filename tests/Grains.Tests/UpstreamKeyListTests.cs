namespace GeminiParty.Grains.Tests;

public sealed class UpstreamKeyListTests
{
    [Fact]
    public void Keys_split_on_commas_and_newlines_trimmed_without_duplicates()
    {
        var keys = UpstreamKeyList.Parse(" AIzaA ,AIzaB\nAIzaC\r\n\nAIzaA, ,AQ.D ");
        Assert.Equal(["AIzaA", "AIzaB", "AIzaC", "AQ.D"], keys);
    }

    [Fact]
    public void Fingerprints_are_stable_short_and_do_not_contain_the_key()
    {
        var key = "AIzaSyD-this-is-a-made-up-key-0123456789";
        var fingerprint = UpstreamKeyList.Fingerprint(key);
        Assert.Equal(fingerprint, UpstreamKeyList.Fingerprint(key));
        Assert.Equal(12, fingerprint.Length);
        Assert.DoesNotContain(fingerprint, key);
        Assert.NotEqual(fingerprint, UpstreamKeyList.Fingerprint(key + "x"));
    }

    [Fact]
    public void Masked_keys_show_only_the_ends() =>
        Assert.Equal("AIza...x9Q1", UpstreamKeyList.Mask("AIzaSyD0123456789abcdefghijklmnopqx9Q1"));
}
