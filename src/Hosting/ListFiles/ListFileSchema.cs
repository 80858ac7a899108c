namespace GeminiParty.Hosting.ListFiles;

/// <summary>What a list file's lines hold: how many positional fields come first, and which attribute names exist.</summary>
/// <param name="Fields">Names of the positional fields, in order, for error messages ("key"; "name", "token").</param>
/// <param name="Attributes">The attribute names a line may carry; any other is an error.</param>
public sealed record ListFileSchema(IReadOnlyList<string> Fields, IReadOnlySet<string> Attributes);
