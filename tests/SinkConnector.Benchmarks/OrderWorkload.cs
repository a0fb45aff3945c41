using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace SinkConnector.Benchmarks;

/// <summary>One order event, as produced to Kafka and as the ceilings copy it from memory.</summary>
public readonly record struct OrderEvent(
    long Id, Guid CustomerId, decimal Amount, string Currency, string Status, DateTime CreatedAt, string Note, int Partition);

/// <summary>
/// The benchmark's data: order events as JSON (about 190 bytes), keyed and partitioned by order id so that updates of
/// one order stay in order on one partition. A share of the events (<see cref="BenchOptions.Overlap"/>) update an
/// earlier order: insert mode appends them all, upsert mode keeps the last per id. Deterministic (fixed seed), so a
/// smaller workload is a prefix of a larger one.
/// </summary>
public sealed class OrderWorkload
{
    private static readonly string[] s_currencies = ["EUR", "USD", "GBP", "CHF", "SEK"];
    private static readonly string[] s_updates = ["paid", "shipped", "delivered", "cancelled"];
    private static readonly string[] s_notes =
    [
        "leave at the front door", "gift wrap, no invoice", "call before delivery", "deliver after 5 pm",
        "fragile: glassware", "second floor, no lift", "neighbour may accept", "express shipping",
    ];

    private static readonly DateTime s_epoch = new(2026, 11, 21, 8, 0, 0, DateTimeKind.Utc);

    private OrderWorkload(OrderEvent[] events, int partitions)
    {
        Events = events;
        Partitions = partitions;
    }

    public IReadOnlyList<OrderEvent> Events { get; }

    public int Partitions { get; }

    public static OrderWorkload Generate(int count, double overlap, int partitions)
    {
        var random = new Random(20261121);
        var events = new OrderEvent[count];
        var ids = new List<long>(count);
        for (var i = 0; i < count; i++)
        {
            var update = ids.Count > 0 && random.NextDouble() < overlap;
            var id = update ? ids[random.Next(ids.Count)] : ids.Count + 1L;
            if (!update)
            {
                ids.Add(id);
            }

            events[i] = new OrderEvent(
                id,
                CustomerOf(id),
                random.Next(100, 1_000_000) / 100m,
                s_currencies[(int)(id % s_currencies.Length)],
                update ? s_updates[random.Next(s_updates.Length)] : "new",
                s_epoch.AddMilliseconds(i * 7L),
                s_notes[random.Next(s_notes.Length)],
                (int)(id % partitions));
        }

        return new OrderWorkload(events, partitions);
    }

    /// <summary>The first <paramref name="count"/> events: the smaller workload.</summary>
    public OrderWorkload Take(int count) => new([.. Events.Take(count)], Partitions);

    public static byte[] Key(in OrderEvent e) => Encoding.UTF8.GetBytes(e.Id.ToString(CultureInfo.InvariantCulture));

    public static byte[] Json(in OrderEvent e) => Encoding.UTF8.GetBytes(
        string.Create(CultureInfo.InvariantCulture,
            $$"""{"id":{{e.Id}},"customer":{"id":"{{e.CustomerId}}"},"amount":{{e.Amount:0.00}},"currency":"{{e.Currency}}","status":"{{e.Status}}","created_at":"{{e.CreatedAt:yyyy-MM-ddTHH:mm:ss.fffZ}}","note":"{{e.Note}}"}"""));

    public IEnumerable<(int Partition, Message<byte[]?, byte[]?> Message)> Messages() =>
        Events.Select(e => (e.Partition, new Message<byte[]?, byte[]?> { Key = Key(e), Value = Json(e) }));

    public double AverageValueBytes => Events.Take(10_000).Average(e => Json(e).Length);

    /// <summary>What the target table must hold afterwards: rows and sum(amount), for insert or upsert mode.</summary>
    /// <param name="consumed">Messages consumed per partition when a scenario stopped early; all by default.</param>
    public (long Rows, decimal AmountSum) Expected(bool upsert, IReadOnlyDictionary<int, long>? consumed = null)
    {
        var offsets = new long[Partitions];
        var events = Events.Where(e => consumed is null || offsets[e.Partition]++ < consumed.GetValueOrDefault(e.Partition)).ToList();
        if (!upsert)
        {
            return (events.Count, events.Sum(e => e.Amount));
        }

        var last = new Dictionary<long, decimal>();
        foreach (var e in events)
        {
            last[e.Id] = e.Amount;
        }

        return (last.Count, last.Values.Sum());
    }

    private static Guid CustomerOf(long id)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, id * 2654435761L);
        BitConverter.TryWriteBytes(bytes[8..], ~id * 40503L);
        return new Guid(bytes);
    }
}
