using GeminiParty.Hosting.ListFiles;
using Microsoft.Extensions.Logging.Abstractions;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Time.Testing;

namespace GeminiParty.Hosting.Tests;

public sealed partial class ReloadingFileTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly ListFileSchema Schema = new(["key"], new HashSet<string> { "weight" });

    private readonly string _folder = Directory.CreateTempSubdirectory("reloading-file-").FullName;
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private ReloadingFile<IReadOnlyList<string>> Open(string path) =>
        new(path, text => ListFile.Parse(text, Schema).Select(entry => entry.Fields[0] + "/" + entry.Integer("weight", 1, 1, 9)).ToArray(),
            Interval, _time, NullLogger.Instance);

    [Fact]
    public void A_change_takes_effect_once_two_polls_read_the_same_content()
    {
        var path = Path.Combine(_folder, "keys");
        File.WriteAllText(path, "a\n");
        using var file = Open(path);
        var notified = new List<IReadOnlyList<string>>();
        file.Changed += notified.Add;

        File.WriteAllText(path, "a\nb weight=2\n");
        _time.Advance(Interval); // first sight of the change: it may still be being written
        Assert.Equal(["a/1"], file.Current);

        _time.Advance(Interval);
        Assert.Equal(["a/1", "b/2"], file.Current);
        Assert.Equal(["a/1", "b/2"], Assert.Single(notified));
        Assert.Equal(_time.GetUtcNow(), file.Status.LoadedAt);
    }

    [Fact]
    public void A_half_written_file_seen_once_is_never_applied()
    {
        var path = Path.Combine(_folder, "keys");
        File.WriteAllText(path, "a\nb\n");
        using var file = Open(path);

        File.WriteAllText(path, "a\n"); // caught mid-write
        _time.Advance(Interval);
        File.WriteAllText(path, "a\nb\nc\n");
        _time.Advance(Interval);
        Assert.Equal(["a/1", "b/1"], file.Current);

        _time.Advance(Interval);
        Assert.Equal(["a/1", "b/1", "c/1"], file.Current);
    }

    [Fact]
    public void A_bad_change_keeps_the_last_good_content_and_shows_the_line_until_fixed()
    {
        var path = Path.Combine(_folder, "keys");
        File.WriteAllText(path, "a\n");
        using var file = Open(path);

        File.WriteAllText(path, "a\nAIzaLeakedSecret weight=many\n");
        _time.Advance(Interval);
        _time.Advance(Interval);

        Assert.Equal(["a/1"], file.Current);
        Assert.StartsWith("line 2: 'weight' must be a whole number", file.Status.Error);
        Assert.DoesNotContain("AIza", file.Status.Error);

        File.WriteAllText(path, "a\n");
        _time.Advance(Interval);
        Assert.Null(file.Status.Error);
        Assert.Equal(["a/1"], file.Current);
    }

    [Fact]
    public void A_kubernetes_symlink_swap_is_followed_and_a_missing_file_keeps_the_last_content()
    {
        // the kubelet's layout: keys -> ..data/keys, ..data -> ..<timestamp>; an update swaps ..data
        var first = Directory.CreateDirectory(Path.Combine(_folder, "..2026_01_01")).FullName;
        File.WriteAllText(Path.Combine(first, "keys"), "a\n");
        var data = Path.Combine(_folder, "..data");
        File.CreateSymbolicLink(data, first);
        var path = Path.Combine(_folder, "keys");
        File.CreateSymbolicLink(path, Path.Combine("..data", "keys"));
        using var file = Open(path);

        var second = Directory.CreateDirectory(Path.Combine(_folder, "..2026_01_02")).FullName;
        File.WriteAllText(Path.Combine(second, "keys"), "b\n");
        var swap = Path.Combine(_folder, "..data_tmp");
        File.CreateSymbolicLink(swap, second);
        Assert.Equal(0, Rename(swap, data)); // rename(2) over the old link, as the kubelet does
        _time.Advance(Interval);
        _time.Advance(Interval);
        Assert.Equal(["b/1"], file.Current);

        File.Delete(path);
        _time.Advance(Interval);
        Assert.Equal(["b/1"], file.Current);
        Assert.Contains("cannot be read", file.Status.Error);
    }

    [Fact]
    public void A_file_that_does_not_parse_at_start_stops_the_start()
    {
        var path = Path.Combine(_folder, "keys");
        File.WriteAllText(path, "a weight\n");

        var error = Assert.Throws<ListFileFormatException>(() => Open(path));
        Assert.Equal(1, error.Line);
    }

    // File.Move refuses a link to a folder; the kubelet's atomic swap is a plain rename(2)
    [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Rename(string from, string to);
}
