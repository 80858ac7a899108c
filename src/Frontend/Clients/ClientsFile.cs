using GeminiParty.Frontend.Hosting;
using GeminiParty.Hosting.ListFiles;
using Microsoft.Extensions.Options;

namespace GeminiParty.Frontend.Clients;

/// <summary>
/// CLIENTS_FILE as this frontend has it in force: read at start (the options validator has already refused a bad
/// one), then re-read every <see cref="PollInterval"/>; a change applies once two reads agree, so a revoked token stops
/// working on every frontend within a few seconds. Without CLIENTS_FILE there are no named clients.
/// </summary>
public sealed class ClientsFile : IDisposable
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly ReloadingFile<ClientList>? _file;

    public ClientsFile(IOptions<FrontendOptions> options, TimeProvider time, ILogger<ClientsFile> logger)
    {
        if (!string.IsNullOrWhiteSpace(options.Value.ClientsFile))
        {
            _file = new ReloadingFile<ClientList>(options.Value.ClientsFile.Trim(), ClientList.Parse, PollInterval, time, logger);
        }
    }

    public ClientList Current => _file?.Current ?? ClientList.Empty;

    /// <summary>Raised after a change of the file took effect (never without CLIENTS_FILE), on the poll's thread.</summary>
    public event Action<ClientList>? Changed
    {
        add
        {
            if (_file is not null)
            {
                _file.Changed += value;
            }
        }
        remove
        {
            if (_file is not null)
            {
                _file.Changed -= value;
            }
        }
    }

    /// <summary>When the file was last taken and the last change refused; null without CLIENTS_FILE.</summary>
    public ReloadingFileStatus? Status => _file?.Status;

    public void Dispose() => _file?.Dispose();
}
