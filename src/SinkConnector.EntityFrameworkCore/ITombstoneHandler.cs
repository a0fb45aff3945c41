using Microsoft.EntityFrameworkCore;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// A handler that also gets its topic's tombstones (a message with a key and no value, <see cref="MessageContext.IsTombstone"/>):
/// typically to delete the entity of <see cref="MessageContext.Key"/>. A handler without this interface never sees
/// them; their offsets advance with the batch. A tombstone is handled like any message: it fails, times out and
/// becomes a dead letter the same way, and its changes commit with the batch.
/// </summary>
public interface ITombstoneHandler<in TContext>
    where TContext : DbContext
{
    Task HandleTombstoneAsync(MessageContext context, TContext db, CancellationToken cancellationToken);
}
