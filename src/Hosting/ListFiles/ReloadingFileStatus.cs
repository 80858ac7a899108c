namespace GeminiParty.Hosting.ListFiles;

/// <summary>What a status page shows of a reloading file: when its content was last taken, and the last rejected change.</summary>
/// <param name="Error">Why the file's current content is not in force (null when it is); names a line, never a secret.</param>
public sealed record ReloadingFileStatus(string Path, DateTimeOffset LoadedAt, string? Error, DateTimeOffset? ErrorAt);
