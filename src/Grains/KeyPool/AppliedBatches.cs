namespace GeminiParty;

/// <summary>
/// The last report batch the pool applied from each frontend, so that a batch sent again (its acknowledgement was
/// lost) is counted once. Frontends send their batches one at a time, in order, so the last sequence is enough.
/// Senders silent for an hour (stopped frontends) are forgotten.
/// </summary>
internal sealed class AppliedBatches
{
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);

    private readonly Dictionary<Guid, (long Sequence, DateTimeOffset Seen)> _last = [];
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    /// <summary>True, and the batch is marked applied, when it comes after the sender's last applied batch.</summary>
    public bool TryMarkApplied(ReportBatch batch, DateTimeOffset now)
    {
        Sweep(now);
        if (_last.TryGetValue(batch.Sender, out var last) && batch.Sequence <= last.Sequence)
        {
            _last[batch.Sender] = (last.Sequence, now);
            return false;
        }
        _last[batch.Sender] = (batch.Sequence, now);
        return true;
    }

    private void Sweep(DateTimeOffset now)
    {
        if (now < _nextSweep)
        {
            return;
        }
        _nextSweep = now + ForgetAfter;
        foreach (var (sender, last) in _last)
        {
            if (now - last.Seen > ForgetAfter)
            {
                _last.Remove(sender);
            }
        }
    }
}
