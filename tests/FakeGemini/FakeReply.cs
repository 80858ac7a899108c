namespace GeminiParty.FakeGemini;

/// <summary>The text the fake "generates": one piece per stream event, and their concatenation otherwise.</summary>
internal static class FakeReply
{
    public static string Piece(int index, int count) => $"Piece {index + 1} of {count} from FakeGemini. ";

    public static string Whole(int count) => string.Concat(Enumerable.Range(0, count).Select(i => Piece(i, count)));

    public static int Tokens(int count) => TokenEstimator.ForText(Whole(count));

    public static string NewResponseId() => Convert.ToBase64String(Guid.NewGuid().ToByteArray())[..22].Replace('/', '_').Replace('+', '-');
}
