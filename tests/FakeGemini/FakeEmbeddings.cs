namespace GeminiParty.FakeGemini;

/// <summary>Deterministic unit-length vectors: the same text always embeds to the same values.</summary>
internal static class FakeEmbeddings
{
    public static float[] For(string text, int dimensions)
    {
        var values = new float[dimensions];
        var state = (uint)StableHash(text) | 1u;
        double sumOfSquares = 0;
        for (var i = 0; i < dimensions; i++)
        {
            // xorshift32: cheap and reproducible across runs, unlike string.GetHashCode.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            values[i] = (state / (float)uint.MaxValue) - 0.5f;
            sumOfSquares += values[i] * values[i];
        }

        var norm = (float)Math.Sqrt(sumOfSquares);
        for (var i = 0; i < dimensions && norm > 0; i++)
        {
            values[i] /= norm;
        }

        return values;
    }

    private static int StableHash(string text)
    {
        unchecked
        {
            var hash = (int)2166136261;
            foreach (var c in text)
            {
                hash = (hash ^ c) * 16777619;
            }

            return hash;
        }
    }
}
