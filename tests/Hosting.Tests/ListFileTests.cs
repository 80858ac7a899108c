using GeminiParty.Hosting.ListFiles;

namespace GeminiParty.Hosting.Tests;

public sealed class ListFileTests
{
    private static readonly ListFileSchema Keys = new(["key"], new HashSet<string> { "project", "tier", "weight", "note" });
    private static readonly ListFileSchema Clients = new(["name", "token"], new HashSet<string> { "rpm", "models" });

    [Fact]
    public void Entries_carry_their_fields_attributes_and_line_numbers_skipping_blanks_and_comments()
    {
        var entries = ListFile.Parse("# team keys\n\nAIzaKeyOne project=p1 tier=paid\r\n  AIzaKeyTwo\tweight=2  \n", Keys);

        Assert.Collection(entries,
            first =>
            {
                Assert.Equal(3, first.Line);
                Assert.Equal(["AIzaKeyOne"], first.Fields);
                Assert.Equal("p1", first.Text("project"));
                Assert.Equal("paid", first.Choice("tier", "free", "free", "paid"));
            },
            second =>
            {
                Assert.Equal(4, second.Line);
                Assert.Equal(["AIzaKeyTwo"], second.Fields);
                Assert.Equal(2, second.Integer("weight", 1, 1, 100));
                Assert.Null(second.Text("project"));
            });
    }

    [Theory]
    [InlineData("AIzaSecretKey123 project", 1, "no '='")]
    [InlineData("ok\nAIzaSecretKey123 colour=blue", 2, "unknown attribute 'colour'")]
    [InlineData("AIzaSecretKey123 project=a project=b", 1, "given twice")]
    public void A_line_that_breaks_the_format_is_named_by_number_without_its_content(string text, int line, string problem)
    {
        var error = Assert.Throws<ListFileFormatException>(() => ListFile.Parse(text, Keys));

        Assert.Equal(line, error.Line);
        Assert.Contains($"line {line}", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.DoesNotContain("Secret", error.Message);
    }

    [Fact]
    public void Missing_positional_fields_and_bad_values_say_what_is_expected()
    {
        var missing = Assert.Throws<ListFileFormatException>(() => ListFile.Parse("alice", Clients));
        Assert.Contains("name then token", missing.Message);

        var entry = Assert.Single(ListFile.Parse("alice sk-alice-secret rpm=lots", Clients));
        var bad = Assert.Throws<ListFileFormatException>(() => entry.Integer("rpm", 0, 1, 1_000_000));
        Assert.Equal("line 1: 'rpm' must be a whole number from 1 to 1000000", bad.Message);
    }
}
