namespace GeminiParty.Frontend.Forwarding;

/// <summary>
/// Validates the method of <c>models/{model}:{method}</c> before it goes into an upstream URL. Any method passes that
/// looks like one (upstream answers for methods it does not have, and methods Google adds later work at once).
/// </summary>
public static class MethodName
{
    private const int MaxLength = 64;

    /// <summary>An ASCII letter, then letters and digits only; at most 64 characters.</summary>
    public static bool IsValid(ReadOnlySpan<char> method) =>
        method.Length is > 0 and <= MaxLength && char.IsAsciiLetter(method[0]) && !method.ContainsAnyExcept(Alphanumerics);

    private static readonly System.Buffers.SearchValues<char> Alphanumerics =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
}
