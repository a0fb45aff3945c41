using Microsoft.EntityFrameworkCore;
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
/// Library mode's upsert, as (c) does it: the batch's orders loaded in one query (<see cref="PreloadAsync"/>), then per
/// message update the loaded order or add it. The dictionary lives as long as the handler (one scope per batch) and is
/// rebuilt by every preload, which the consumer repeats whenever it cleared the change tracker.
/// </summary>
public sealed class UpsertOrderHandler : IPreloadingMessageHandler<OrderMessage, BenchDbContext>
{
    private Dictionary<long, OrderRow> _orders = [];

    public async Task PreloadAsync(IReadOnlyList<OrderMessage> messages, BenchDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(db);
        var ids = messages.Select(m => m.Id).Distinct().ToList();
        _orders = await db.Orders.Where(o => ids.Contains(o.Id)).ToDictionaryAsync(o => o.Id, cancellationToken);
    }

    public Task HandleAsync(OrderMessage message, MessageContext context, BenchDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(db);
        if (!_orders.TryGetValue(message.Id, out var row))
        {
            row = new OrderRow { Id = message.Id };
            db.Orders.Add(row);
            _orders.Add(message.Id, row);
        }

        OrderFields.CopyTo(row, message);
        return Task.CompletedTask;
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
