namespace GeminiParty;

/// <summary>
/// The requests of one model waiting for a key, in the order they joined, across every frontend. Kept by the pool grain
/// in memory (a new activation starts with an empty line, and tickets it does not know join its tail when claimed).
/// Only the head may take a key; when it leaves (served, gone, expired) the next ticket is told at once.
/// </summary>
/// <remarks>
/// A frontend claims for its ticket at the time the pool gave it; a head that does not claim within
/// <see cref="ClaimGrace"/> of that time (its frontend stalled or died without leaving the line) loses its place, so a
/// lost frontend holds the line up by that much at most. A ticket past its deadline by the same grace is dropped too:
/// its frontend has answered 429 by then.
/// </remarks>
internal sealed class WaitLine
{
    /// <summary>How late a head may claim, or a ticket outlive its deadline, before it loses its place.</summary>
    public static readonly TimeSpan ClaimGrace = TimeSpan.FromSeconds(2);

    private readonly LinkedList<Ticket> _tickets = new();
    private readonly Dictionary<long, LinkedListNode<Ticket>> _byId = [];

    /// <summary>Tickets in the line, expired ones included until the next <see cref="Prune"/>.</summary>
    public int Count => _tickets.Count;

    public Ticket Join(long id, DateTimeOffset deadline, DateTimeOffset expectedAt)
    {
        var ticket = new Ticket(id, deadline) { ExpectedAt = expectedAt };
        _byId[id] = _tickets.AddLast(ticket);
        if (_tickets.Count == 1)
        {
            ticket.Turn.TrySetResult();
        }
        return ticket;
    }

    public Ticket? Find(long id) => _byId.TryGetValue(id, out var node) ? node.Value : null;

    public bool IsHead(Ticket ticket) => ReferenceEquals(_tickets.First?.Value, ticket);

    /// <summary>Takes a ticket out of the line; when it was the head, the next one is told it is its turn.</summary>
    public void Remove(long id)
    {
        if (!_byId.Remove(id, out var node))
        {
            return;
        }
        var wasHead = ReferenceEquals(_tickets.First, node);
        _tickets.Remove(node);
        node.Value.Turn.TrySetResult(); // a claim waiting for it returns and finds itself gone
        if (wasHead)
        {
            _tickets.First?.Value.Turn.TrySetResult();
        }
    }

    /// <summary>Drops tickets past their deadline, and a head that did not claim in time; true when none is left.</summary>
    public bool Prune(DateTimeOffset now)
    {
        var node = _tickets.First;
        while (node is not null)
        {
            var next = node.Next;
            var ticket = node.Value;
            var overdue = ReferenceEquals(node, _tickets.First) && !ticket.Claiming && now > ticket.ExpectedAt + ClaimGrace;
            if (now > ticket.Deadline + ClaimGrace || overdue)
            {
                Remove(ticket.Id);
            }
            node = next;
        }
        return _tickets.Count == 0;
    }

    /// <summary>One waiting request.</summary>
    internal sealed class Ticket(long id, DateTimeOffset deadline)
    {
        public long Id { get; } = id;

        /// <summary>The end of the request's wait: no key is held for it after that.</summary>
        public DateTimeOffset Deadline { get; } = deadline;

        /// <summary>When its frontend will claim: the time the pool last told it.</summary>
        public DateTimeOffset ExpectedAt { get; set; }

        /// <summary>A claim for this ticket is waiting in the pool for its turn.</summary>
        public bool Claiming { get; set; }

        /// <summary>Completed when the ticket becomes the head of the line (or leaves it).</summary>
        public TaskCompletionSource Turn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
