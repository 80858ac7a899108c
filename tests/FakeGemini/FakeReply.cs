namespace GeminiParty.FakeGemini;

/// <summary>The text the fake "generates": one piece per stream event, and their concatenation otherwise.</summary>
internal static class FakeReply
{
    private const string Filler = "The quick brown fox jumps over the lazy dog while the gateway counts its tokens. ";

    /// <summary>Piece <paramref name="index"/> of <paramref name="count"/>, padded with prose to <paramref name="length"/> characters when longer.</summary>
    public static string Piece(int index, int count, int length = 0)
    {
        var piece = $"Piece {index + 1} of {count} from FakeGemini. ";
        if (length <= piece.Length)
        {
            return piece;
        }
        var padded = new System.Text.StringBuilder(piece, length);
        while (padded.Length < length)
        {
            padded.Append(Filler, 0, Math.Min(Filler.Length, length - padded.Length));
        }
        return padded.ToString();
    }

    public static string Whole(int count, int length = 0) => string.Concat(Enumerable.Range(0, count).Select(i => Piece(i, count, length)));

    public static int Tokens(int count, int length = 0) => TokenEstimator.ForText(Whole(count, length));

    public static string NewResponseId() => Convert.ToBase64String(Guid.NewGuid().ToByteArray())[..22].Replace('/', '_').Replace('+', '-');
}
