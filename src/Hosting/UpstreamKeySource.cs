using GeminiParty.Hosting.ListFiles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GeminiParty.Hosting;

/// <summary>
/// The one place a process reads its upstream keys: GEMINI_API_KEY once, GEMINI_API_KEY_FILE at start and then every
/// KEY_FILE_POLL_INTERVAL (see <see cref="ReloadingFile{T}"/>: symlink swaps followed, half-written files waited out,
/// a bad change refused with the last good list kept). Frontends take secrets from it, silos the pool's list and the
/// probes' secrets.
/// </summary>
public sealed class UpstreamKeySource : IDisposable
{
    private readonly IReadOnlyList<string> _fromVariable;
    private readonly ReloadingFile<IReadOnlyList<UpstreamKey>>? _file;
    private UpstreamKeySet _current;

    public UpstreamKeySource(IOptions<UpstreamKeysOptions> options, TimeProvider time, ILogger<UpstreamKeySource> logger)
    {
        var value = options.Value;
        _fromVariable = value.Keys;
        if (value.HasFile)
        {
            _file = new ReloadingFile<IReadOnlyList<UpstreamKey>>(value.File!, UpstreamKeyFile.Parse, value.FilePollInterval, time, logger);
            _file.Changed += keys =>
            {
                var set = new UpstreamKeySet(_fromVariable, keys);
                Volatile.Write(ref _current, set);
                Changed?.Invoke(set);
            };
        }
        _current = new UpstreamKeySet(_fromVariable, _file?.Current ?? []);
    }

    public UpstreamKeySet Current => Volatile.Read(ref _current);

    /// <summary>The key file's state (null without one): when it was taken, and a change refused, naming its line.</summary>
    public ReloadingFileStatus? FileStatus => _file?.Status;

    /// <summary>Raised after the key file's new content took effect.</summary>
    public event Action<UpstreamKeySet>? Changed;

    public void Dispose() => _file?.Dispose();
}
