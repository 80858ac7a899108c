using System.Text;
using System.Text.RegularExpressions;

namespace GeminiParty.Deploy.Tests;

/// <summary>
/// README.md and docs/*.md point where they say: every relative link reaches a file, every anchor a heading of it, and
/// every repository path quoted in code (<c>`tests/...`</c>) exists, so a renamed file or heading breaks a test rather
/// than a reader's click.
/// </summary>
public sealed partial class DocLinksTests
{
    public static TheoryData<string> Pages()
    {
        var pages = new TheoryData<string> { "README.md" };
        foreach (var path in Directory.EnumerateFiles(RepoRoot.File("docs"), "*.md").Order(StringComparer.Ordinal))
        {
            pages.Add("docs/" + Path.GetFileName(path));
        }
        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Relative_links_and_anchors_resolve(string page)
    {
        var text = Prose(RepoRoot.ReadText(page));
        var broken = new List<string>();
        foreach (Match link in Link().Matches(text))
        {
            var target = link.Groups[1].Value;
            if (Scheme().IsMatch(target))
            {
                continue; // https:, mailto: ... are not this repository's to check
            }
            var hash = target.IndexOf('#');
            var file = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var path = file.Length == 0
                ? RepoRoot.File(page)
                : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(RepoRoot.File(page))!, Uri.UnescapeDataString(file)));
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                broken.Add($"{target}: no such file");
            }
            else if (anchor is not null && path.EndsWith(".md", StringComparison.Ordinal) && !Anchors(File.ReadAllText(path)).Contains(anchor))
            {
                broken.Add($"{target}: no heading with anchor #{anchor}");
            }
        }
        Assert.True(broken.Count == 0, $"{page} has broken links:\n{string.Join('\n', broken)}");
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Repository_paths_in_code_exist(string page)
    {
        var missing = CodePath().Matches(RepoRoot.ReadText(page))
            .Select(match => match.Groups[1].Value)
            .Where(path => path.IndexOfAny(['<', '*', '{', '…']) < 0 && !path.Contains("...", StringComparison.Ordinal))
            .Select(path => path.Split(':')[0]) // a path:method or path:line names the file before the colon
            .Where(path => !File.Exists(RepoRoot.File(path)) && !Directory.Exists(RepoRoot.File(path)))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        Assert.True(missing.Count == 0, $"{page} names files that do not exist:\n{string.Join('\n', missing)}");
    }

    /// <summary>Guards the parsing the checks rely on: anchors computed as GitHub does, links read from prose only.</summary>
    [Fact]
    public void Anchors_and_links_are_read_as_GitHub_reads_them()
    {
        var anchors = Anchors("# Keys that look after themselves\n## Key file, reloaded live\n## `/rotation-status` fields\n"
            + "## Key file, reloaded live\n```\n# not a heading\n```\n");
        Assert.Equal(
            new HashSet<string>(["keys-that-look-after-themselves", "key-file-reloaded-live", "rotation-status-fields", "key-file-reloaded-live-1"]),
            anchors);
        Assert.DoesNotContain("not-a-heading", anchors);
        Assert.Equal(["docs/keys.md#key-file", "https://x.example/a"],
            Link().Matches(Prose("[a](docs/keys.md#key-file) `[b](not/a/link.md)` [c](https://x.example/a)\n```\n[d](in/a/fence.md)\n```")).Select(m => m.Groups[1].Value));
    }

    /// <summary>The text a reader sees as prose: fenced blocks and inline code hold no links.</summary>
    private static string Prose(string markdown) => InlineCode().Replace(Fence().Replace(markdown, ""), "");

    /// <summary>GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats numbered -1, -2, ...</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match heading in Heading().Matches(Fence().Replace(markdown, "")))
        {
            var title = LinkText().Replace(heading.Groups[1].Value.Trim(), "$1").ToLowerInvariant();
            var slug = new StringBuilder();
            foreach (var c in title)
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }
            var anchor = slug.ToString();
            var count = seen.GetValueOrDefault(anchor);
            seen[anchor] = count + 1;
            anchors.Add(count == 0 ? anchor : $"{anchor}-{count}");
        }
        return anchors;
    }

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"\[([^\]]*)\]\([^)]*\)")]
    private static partial Regex LinkText();

    [GeneratedRegex("^[a-zA-Z][a-zA-Z0-9+.-]*:")]
    private static partial Regex Scheme();

    [GeneratedRegex(@"^#{1,6}[ \t]+(.+?)[ \t#]*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"^[ \t]*```.*?^[ \t]*```[^\n]*$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fence();

    [GeneratedRegex("`[^`\n]+`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"`((?:src|tests|deploy|bench|tools|docs|scripts)/[^`\s]+)`")]
    private static partial Regex CodePath();
}
