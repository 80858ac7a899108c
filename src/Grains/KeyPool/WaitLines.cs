using Microsoft.Extensions.Logging;

namespace GeminiParty;

/// <summary>
/// Each model's line of requests waiting for a key (<see cref="WaitLine"/>); a model is here only while its line holds
/// tickets. Only the head of a line gets a key, and while a line holds anyone a new lease of its model gets none, so a key
/// that returns serves the longest waiter first, whichever frontend it waits on.
/// </summary>
internal sealed partial class WaitLines(
    PoolKeys keys, PoolRotations rotations, KeyWithdrawals withdrawals, TimeProvider time, ILogger logger)
{
    /// <summary>The longest a claim waits in the pool for its turn before its frontend is told to claim again.</summary>
    private static readonly TimeSpan ClaimPatience = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, WaitLine> _lines = new(StringComparer.Ordinal);
    private long _lastTicket;

    /// <summary>Tickets number on from the clock, like withdrawal versions: one of an earlier activation is not mistaken for a new one.</summary>
    public void StartAt(DateTimeOffset now) => _lastTicket = now.UtcTicks;

    /// <summary>Whether requests wait in the model's line (dropping expired tickets first).</summary>
    public bool Has(string model, DateTimeOffset now)
    {
        if (_lines.Count == 0 || !_lines.TryGetValue(model, out var line))
        {
            return false;
        }
        if (line.Prune(now))
        {
            _lines.Remove(model);
            return false;
        }
        return true;
    }

    /// <summary>How many wait in each model's line now.</summary>
    public Dictionary<string, int> Waiting(DateTimeOffset now)
    {
        var waiting = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var model in _lines.Keys.ToArray())
        {
            if (Has(model, now))
            {
                waiting[model] = _lines[model].Count;
            }
        }
        return waiting;
    }

    public WaitTicket Join(string model, DateTimeOffset deadline, int maxWaiting)
    {
        var now = time.GetUtcNow();
        var rotation = rotations.For(model, now);
        var expected = rotation.AnyUsable(now) ? now : rotation.EarliestReturn(now);
        if (expected is null || expected > deadline)
        {
            return new WaitTicket(0, expected); // nothing returns within the request's wait
        }
        _lines.TryGetValue(model, out var line);
        if (line is not null && line.Count >= maxWaiting && !line.Prune(now) && line.Count >= maxWaiting)
        {
            return new WaitTicket(0, expected, LineFull: true);
        }
        if (line is null)
        {
            _lines[model] = line = new WaitLine();
        }
        var ticket = line.Join(++_lastTicket, deadline, expected.Value);
        LogJoined(logger, model, ticket.Id, line.Count, expected.Value);
        return new WaitTicket(ticket.Id, expected, Place: line.Count);
    }

    /// <summary>
    /// A key for the ticket once it is the head of its line. A claim behind others waits here for its turn (the pool is
    /// reentrant: nothing else is held up), never longer than <see cref="ClaimPatience"/> per call.
    /// </summary>
    public async ValueTask<KeyLease> ClaimAsync(string model, long ticket, DateTimeOffset deadline)
    {
        var started = time.GetUtcNow();
        for (var first = true; ; first = false)
        {
            var now = time.GetUtcNow();
            if (!_lines.TryGetValue(model, out var line))
            {
                _lines[model] = line = new WaitLine();
            }
            if (line.Find(ticket) is { } known)
            {
                known.Claiming = true; // claiming now: not a head that stalled
            }
            line.Prune(now);
            var place = line.Find(ticket);
            if (place is null)
            {
                if (!first)
                {
                    DropIfEmpty(model, line);
                    return new KeyLease([], null, false, withdrawals.Version); // left the line meanwhile (its client went, or its wait ended)
                }
                place = line.Join(ticket, deadline, now); // a ticket of an earlier activation, or one that lost its place: the tail
            }
            var rotation = rotations.For(model, now);
            if (!rotation.AnyUsable(now))
            {
                place.Claiming = false;
                var back = rotation.EarliestReturn(now);
                if (back is null || back > deadline)
                {
                    line.Remove(ticket);
                    DropIfEmpty(model, line);
                    return new KeyLease([], back, back is null && keys.AllOut, withdrawals.Version);
                }
                place.ExpectedAt = back.Value; // the keys cooled again: claim again then, keeping the place
                return new KeyLease([], back, false, withdrawals.Version);
            }
            if (line.IsHead(place))
            {
                var taken = new List<int>(1);
                rotation.Take(now, null, 1, taken);
                line.Remove(ticket);
                DropIfEmpty(model, line);
                LogServedFromLine(logger, model, ticket, taken[0], line.Count);
                return new KeyLease([keys.Slots[taken[0]].Alias], null, false, withdrawals.Version);
            }
            if (now - started > ClaimPatience)
            {
                place.Claiming = false;
                place.ExpectedAt = now;
                return new KeyLease([], now, false, withdrawals.Version); // still behind others: the frontend claims again at once
            }
            try
            {
                // the pool serves everyone else meanwhile; the head's claim (or its expiry) wakes this one
                await place.Turn.Task.WaitAsync(WaitLine.ClaimGrace, time);
            }
            catch (TimeoutException)
            {
                // the head did not claim: the next round drops it if it is overdue
            }
        }
    }

    public void Leave(string model, long ticket)
    {
        if (_lines.TryGetValue(model, out var line))
        {
            line.Remove(ticket);
            DropIfEmpty(model, line);
        }
    }

    private void DropIfEmpty(string model, WaitLine line)
    {
        if (line.Count == 0)
        {
            _lines.Remove(model);
        }
    }

    [LoggerMessage(EventId = 1020, Level = LogLevel.Debug, Message = "Ticket {Ticket} joined the line of {Model} in place {Place}; a key is expected at {ExpectedAt:O}")]
    private static partial void LogJoined(ILogger logger, string model, long ticket, int place, DateTimeOffset expectedAt);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Debug, Message = "Ticket {Ticket} at the head of the line of {Model} got key #{KeyIndex}; {Left} still wait")]
    private static partial void LogServedFromLine(ILogger logger, string model, long ticket, int keyIndex, int left);
}
