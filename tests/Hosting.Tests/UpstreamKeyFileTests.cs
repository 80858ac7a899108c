using GeminiParty.Hosting.ListFiles;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace GeminiParty.Hosting.Tests;

/// <summary>GEMINI_API_KEY_FILE: its attributes, its errors (a line number, never a key), and what a process reads from it.</summary>
public sealed class UpstreamKeyFileTests : IDisposable
{
    private const string KeyA = "AIzaSyA-key-file-test-0123456789abcdefghij";
    private const string KeyB = "AIzaSyB-key-file-test-0123456789abcdefghij";
    private const string KeyC = "AIzaSyC-key-file-test-0123456789abcdefghij";

    private readonly string _folder = Directory.CreateTempSubdirectory("key-file-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Lines_give_keys_with_their_project_tier_weight_and_note()
    {
        var keys = UpstreamKeyFile.Parse($"""
            # team keys
            {KeyA} project=alpha tier=paid weight=3 note=backup

            {KeyB}
            """);

        Assert.Equal(2, keys.Count);
        Assert.Equal(new KeyAttributes("alpha", KeyTier.Paid, 3, "backup"), keys[0].Attributes);
        Assert.Equal(KeyAttributes.Default, keys[1].Attributes);
        Assert.Equal(UpstreamKeyList.Fingerprint(KeyA), keys[0].Fingerprint);
        Assert.DoesNotContain(KeyA, keys[0].ToString());
    }

    [Theory]
    [InlineData("tier=gold", "line 2: 'tier' must be one of free, paid")]
    [InlineData("weight=0", "line 2: 'weight' must be a whole number from 1 to 100")]
    [InlineData("colour=red", "line 2: unknown attribute 'colour'")]
    [InlineData(KeyC, "line 2: after key, only name=value attributes may follow")]
    public void A_bad_line_is_named_by_its_number_and_never_shows_a_key(string rest, string expected)
    {
        var error = Assert.Throws<ListFileFormatException>(() => UpstreamKeyFile.Parse($"{KeyA}\n{KeyB} {rest}\n"));

        Assert.StartsWith(expected, error.Message);
        Assert.DoesNotContain("AIza", error.Message);
    }

    [Fact]
    public void A_key_given_twice_is_an_error_naming_both_lines()
    {
        var error = Assert.Throws<ListFileFormatException>(() => UpstreamKeyFile.Parse($"{KeyA}\n{KeyB}\n{KeyA} weight=2\n"));
        Assert.Equal("line 3: the key is already on line 1", error.Message);
    }

    [Fact]
    public void The_variable_and_the_file_combine_and_a_key_in_both_takes_the_file_attributes()
    {
        var set = new UpstreamKeySet([KeyA, KeyB], UpstreamKeyFile.Parse($"{KeyB} project=p\n{KeyC} tier=paid\n"));

        Assert.Equal([KeyA, KeyB, KeyC], set.Keys.Select(key => key.Secret));
        Assert.Equal("p", set.Keys[1].Attributes.Project);
        Assert.Equal(KeyC, set.SecretByFingerprint[UpstreamKeyList.Fingerprint(KeyC)]);
        Assert.Equal(set.Keys.Select(key => key.Fingerprint), set.Configured.Select(key => key.Fingerprint));
    }

    [Fact]
    public void The_validator_names_the_file_and_the_line_and_asks_for_a_key_somewhere()
    {
        var path = Write($"{KeyA}\n{KeyB} weight=x\n");
        var validator = new UpstreamKeysOptionsValidator();

        var bad = validator.Validate(null, new UpstreamKeysOptions { File = path });
        Assert.Contains(bad.Failures!, failure => failure.Contains($"GEMINI_API_KEY_FILE ({path}): line 2") && !failure.Contains("AIza"));

        var missing = validator.Validate(null, new UpstreamKeysOptions { File = Path.Combine(_folder, "absent") });
        Assert.Contains(missing.Failures!, failure => failure.Contains("cannot be read"));

        Assert.True(validator.Validate(null, new UpstreamKeysOptions { File = Write("# no keys yet\n"), Raw = KeyA }).Succeeded);
        Assert.Contains(validator.Validate(null, new UpstreamKeysOptions { File = Write("\n") }).Failures!, failure => failure.Contains("holds no key"));
    }

    [Fact]
    public void A_process_follows_a_symlink_swap_of_the_file_and_keeps_the_last_good_list_on_a_bad_one()
    {
        // the layout of a Kubernetes Secret volume: keys -> ..data/keys, ..data -> ..2026_1
        var first = Directory.CreateDirectory(Path.Combine(_folder, "..2026_1")).FullName;
        File.WriteAllText(Path.Combine(first, "keys"), $"{KeyA}\n");
        File.CreateSymbolicLink(Path.Combine(_folder, "..data"), first);
        File.CreateSymbolicLink(Path.Combine(_folder, "keys"), Path.Combine("..data", "keys"));
        var time = new FakeTimeProvider();
        var options = Options.Create(new UpstreamKeysOptions { File = Path.Combine(_folder, "keys"), Raw = KeyC });
        using var source = new UpstreamKeySource(options, time, NullLogger<UpstreamKeySource>.Instance);
        var changes = 0;
        source.Changed += _ => changes++;
        Assert.Equal([KeyC, KeyA], source.Current.Keys.Select(key => key.Secret));

        var second = Directory.CreateDirectory(Path.Combine(_folder, "..2026_2")).FullName;
        File.WriteAllText(Path.Combine(second, "keys"), $"{KeyB} project=p\n");
        File.Delete(Path.Combine(_folder, "..data"));
        File.CreateSymbolicLink(Path.Combine(_folder, "..data"), second);
        time.Advance(options.Value.FilePollInterval);
        time.Advance(options.Value.FilePollInterval);
        Assert.Equal([KeyC, KeyB], source.Current.Keys.Select(key => key.Secret));
        Assert.Equal(1, changes);

        File.WriteAllText(Path.Combine(second, "keys"), $"{KeyB} weight=many\n");
        time.Advance(options.Value.FilePollInterval);
        time.Advance(options.Value.FilePollInterval);
        Assert.Equal([KeyC, KeyB], source.Current.Keys.Select(key => key.Secret));
        Assert.StartsWith("line 1:", source.FileStatus!.Error);
    }

    private string Write(string text)
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, text);
        return path;
    }
}
