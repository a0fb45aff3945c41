using Microsoft.EntityFrameworkCore;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// Handles one topic's messages by changing entities of <typeparamref name="TContext"/>. The consumer saves the
/// changes of a whole batch together with the batch's partition offsets, in one transaction: a handler must not call
/// <c>SaveChanges</c> or begin, commit or roll back a transaction (the consumer stops with an error if it does).
/// A handler may run again for the same message when a batch is retried (a transient database error, another message's
/// failure): it must not have effects outside <typeparamref name="TContext"/>, which are rolled back with the batch.
/// </summary>
public interface IMessageHandler<in TMessage, in TContext>
    where TContext : DbContext
{
    Task HandleAsync(TMessage message, MessageContext context, TContext db, CancellationToken cancellationToken);
}
