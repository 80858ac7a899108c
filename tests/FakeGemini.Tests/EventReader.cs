using System.Text;

namespace GeminiParty.FakeGemini.Tests;

/// <summary>Reads a streamed body one delimited event at a time, as it arrives.</summary>
internal sealed class EventReader(Stream stream, string delimiter)
{
    private readonly StringBuilder _pending = new();
    private readonly byte[] _buffer = new byte[4096];

    /// <summary>The next event without its delimiter; null once the body ends (the tail is returned first, if any).</summary>
    public async Task<string?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf(delimiter, StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + delimiter.Length);
                return text[..end];
            }

            var read = await stream.ReadAsync(_buffer, cancellationToken);
            if (read == 0)
            {
                _pending.Clear();
                return text.Length > 0 ? text : null;
            }

            _pending.Append(Encoding.UTF8.GetString(_buffer, 0, read));
        }
    }
}
