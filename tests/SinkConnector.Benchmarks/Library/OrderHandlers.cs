using SinkConnector.Benchmarks.Scenarios;
using SinkConnector.EntityFrameworkCore;

namespace SinkConnector.Benchmarks.Library;

/// <summary>Library mode's insert: the handler an app would write for (c)'s AddRange, one order event at a time.</summary>
public sealed class InsertOrderHandler : IMessageHandler<OrderMessage, BenchDbContext>
{
    public Task HandleAsync(OrderMessage message, MessageContext context, BenchDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        db.OrderLog.Add(OrderFields.CopyTo(new OrderLogRow(), message));
        return Task.CompletedTask;
    }
}

/// <summary>
/// Library mode's upsert: find the order, update it or add it. One message at a time, so an order that is neither
/// tracked nor new costs a query of its own (FindAsync), where (c) loads the whole batch's orders in one query.
/// </summary>
public sealed class UpsertOrderHandler : IMessageHandler<OrderMessage, BenchDbContext>
{
    public async Task HandleAsync(OrderMessage message, MessageContext context, BenchDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(db);
        var row = await db.Orders.FindAsync([message.Id], cancellationToken);
        if (row is null)
        {
            row = new OrderRow { Id = message.Id };
            db.Orders.Add(row);
        }

        OrderFields.CopyTo(row, message);
    }
}

internal static class OrderFields
{
    /// <summary>The same columns (c) sets, from the same deserialized message.</summary>
    public static T CopyTo<T>(T row, OrderMessage message)
        where T : OrderColumns
    {
        row.Id = message.Id;
        row.CustomerId = message.Customer.Id;
        row.Amount = message.Amount;
        row.Currency = message.Currency;
        row.Status = message.Status;
        row.CreatedAt = message.CreatedAt.UtcDateTime;
        row.Note = message.Note;
        return row;
    }
}
