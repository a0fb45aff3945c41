using System.Text.Json;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;

namespace SinkConnector.Benchmarks.Scenarios;

/// <summary>
/// Alternative (c): the consumer most .NET teams would write first. Each batch: deserialize every message into an
/// entity, AddRange (upsert: load the batch's ids, update the tracked rows or add new ones), set the partition offsets
/// on an offsets entity, SaveChanges and commit: rows and offsets in one transaction, exactly once like the sink.
/// EF Core's defaults (change tracking, its own statement batching); a new context per batch, the model built once.
/// </summary>
public sealed class EfCoreConsumer(string connectionString, bool upsert)
{
    private readonly DbContextOptions<BenchDbContext> _options =
        new DbContextOptionsBuilder<BenchDbContext>().UseNpgsql(connectionString).Options;

    public async Task WriteAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch)
    {
        await using var db = new BenchDbContext(_options);
        await using var transaction = await db.Database.BeginTransactionAsync();
        var messages = batch.Select(r => JsonSerializer.Deserialize(r.Message.Value, OrderJsonContext.Default.OrderMessage)!).ToList();
        if (upsert)
        {
            var ids = messages.Select(m => m.Id).Distinct().ToList();
            var rows = await db.Orders.Where(o => ids.Contains(o.Id)).ToDictionaryAsync(o => o.Id);
            foreach (var message in messages)
            {
                if (!rows.TryGetValue(message.Id, out var row))
                {
                    row = new OrderRow { Id = message.Id };
                    db.Orders.Add(row);
                    rows.Add(row.Id, row);
                }

                row.CustomerId = message.Customer.Id;
                row.Amount = message.Amount;
                row.Currency = message.Currency;
                row.Status = message.Status;
                row.CreatedAt = message.CreatedAt.UtcDateTime;
                row.Note = message.Note;
            }
        }
        else
        {
            db.OrderLog.AddRange(messages.Select(m => new OrderLogRow
            {
                Id = m.Id,
                CustomerId = m.Customer.Id,
                Amount = m.Amount,
                Currency = m.Currency,
                Status = m.Status,
                CreatedAt = m.CreatedAt.UtcDateTime,
                Note = m.Note,
            }));
        }

        var topic = batch[0].Topic;
        var offsets = await db.Offsets.Where(o => o.Topic == topic).ToDictionaryAsync(o => o.Partition);
        foreach (var partition in batch.GroupBy(r => r.Partition.Value))
        {
            var next = partition.Max(r => r.Offset.Value) + 1;
            if (offsets.TryGetValue(partition.Key, out var stored))
            {
                stored.NextOffset = next;
            }
            else
            {
                db.Offsets.Add(new OffsetRow { Topic = topic, Partition = partition.Key, NextOffset = next });
            }
        }

        await db.SaveChangesAsync();
        await transaction.CommitAsync();
    }
}

public sealed class BenchDbContext(DbContextOptions<BenchDbContext> options) : DbContext(options)
{
    public DbSet<OrderLogRow> OrderLog => Set<OrderLogRow>();

    public DbSet<OrderRow> Orders => Set<OrderRow>();

    public DbSet<OffsetRow> Offsets => Set<OffsetRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<OrderLogRow>(e =>
        {
            e.ToTable("orders_log", "public");
            e.HasKey(o => o.EventId);
            e.Property(o => o.EventId).HasColumnName("event_id").UseIdentityByDefaultColumn();
            MapOrderColumns(e);
        });
        modelBuilder.Entity<OrderRow>(e =>
        {
            e.ToTable("orders", "public");
            e.HasKey(o => o.Id);
            e.Property(o => o.Id).ValueGeneratedNever();
            MapOrderColumns(e);
        });
        modelBuilder.Entity<OffsetRow>(e =>
        {
            e.ToTable("ef_offsets", "public");
            e.HasKey(o => new { o.Topic, o.Partition });
            e.Property(o => o.Topic).HasColumnName("topic");
            e.Property(o => o.Partition).HasColumnName("partition");
            e.Property(o => o.NextOffset).HasColumnName("next_offset");
        });
    }

    private static void MapOrderColumns<T>(Microsoft.EntityFrameworkCore.Metadata.Builders.EntityTypeBuilder<T> e)
        where T : OrderColumns
    {
        e.Property(o => o.Id).HasColumnName("id");
        e.Property(o => o.CustomerId).HasColumnName("customer_id");
        e.Property(o => o.Amount).HasColumnName("amount").HasPrecision(12, 2);
        e.Property(o => o.Currency).HasColumnName("currency");
        e.Property(o => o.Status).HasColumnName("status");
        e.Property(o => o.CreatedAt).HasColumnName("created_at");
        e.Property(o => o.Note).HasColumnName("note");
    }
}

public abstract class OrderColumns
{
    public long Id { get; set; }

    public Guid CustomerId { get; set; }

    public decimal Amount { get; set; }

    public string Currency { get; set; } = "";

    public string Status { get; set; } = "";

    public DateTime CreatedAt { get; set; }

    public string Note { get; set; } = "";
}

public sealed class OrderLogRow : OrderColumns
{
    public long EventId { get; set; }
}

public sealed class OrderRow : OrderColumns;

public sealed class OffsetRow
{
    public string Topic { get; set; } = "";

    public int Partition { get; set; }

    public long NextOffset { get; set; }
}
