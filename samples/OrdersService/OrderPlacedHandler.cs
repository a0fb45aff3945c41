using Microsoft.EntityFrameworkCore;
using SinkConnector.EntityFrameworkCore;

namespace OrdersService;

/// <summary>The <c>order-placed</c> event as producers write it (JSON, camelCase).</summary>
public sealed record OrderPlaced(long Id, long CustomerId, decimal Amount);

/// <summary>Records the order and adds it to its customer's total. No duplicate check: the consumer delivers each order once.</summary>
public sealed class OrderPlacedHandler : IPreloadingMessageHandler<OrderPlaced, ShopDbContext>
{
    /// <summary>The batch's customer totals in one query, into the change tracker, where FindAsync below finds them.</summary>
    public Task PreloadAsync(IReadOnlyList<OrderPlaced> messages, ShopDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(db);
        var customers = messages.Select(m => m.CustomerId).Distinct().ToList();
        return db.CustomerTotals.Where(t => customers.Contains(t.CustomerId)).LoadAsync(cancellationToken);
    }

    public async Task HandleAsync(OrderPlaced message, MessageContext context, ShopDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(db);
        if (message.Amount <= 0)
        {
            // A poison message: the consumer turns it into a dead letter and goes on.
            throw new ArgumentException($"order {message.Id} has amount {message.Amount}; amounts are positive", nameof(message));
        }

        db.Orders.Add(new Order
        {
            Id = message.Id,
            CustomerId = message.CustomerId,
            Amount = message.Amount,
            PlacedAt = context.Timestamp ?? DateTimeOffset.UtcNow,
        });

        // FindAsync sees an earlier order of the same batch too: the change tracker holds it until the batch is saved.
        var total = await db.CustomerTotals.FindAsync([message.CustomerId], cancellationToken);
        if (total is null)
        {
            db.CustomerTotals.Add(new CustomerTotal { CustomerId = message.CustomerId, Orders = 1, Total = message.Amount });
        }
        else
        {
            total.Orders++;
            total.Total += message.Amount;
        }
    }
}
