using Microsoft.EntityFrameworkCore;

namespace SinkConnector.EntityFrameworkCore;

/// <summary>
/// A handler that loads what a batch's messages need in one query before they are handled one by one: e.g. the
/// entities of all the batch's ids into the change tracker, so that <see cref="IMessageHandler{TMessage, TContext}.HandleAsync"/>
/// finds them there (<c>db.Orders.Local.FindEntry(id)</c>) instead of querying per message.
/// <para>
/// <see cref="PreloadAsync"/> runs per batch before the topic's first <c>HandleAsync</c>, with the values of the messages
/// about to be handled (tombstones are not among them), and again each time the change tracker was cleared: after a
/// message failed (the rest is handled again without it) and, with one message at a time, while the consumer isolates
/// changes Postgres refused. So whatever it loaded is tracked for every <c>HandleAsync</c> that follows it. It may only
/// read; a preload that throws stops the consumer (it cannot say which message is at fault), unless the error is a
/// transient database error, which retries the batch. It is bounded by <see cref="KafkaSinkOptions.HandlerTimeout"/>.
/// </para>
/// </summary>
public interface IPreloadingMessageHandler<in TMessage, in TContext> : IMessageHandler<TMessage, TContext>
    where TContext : DbContext
{
    Task PreloadAsync(IReadOnlyList<TMessage> messages, TContext db, CancellationToken cancellationToken);
}
