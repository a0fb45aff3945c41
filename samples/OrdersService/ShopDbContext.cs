using Microsoft.EntityFrameworkCore;

namespace OrdersService;

/// <summary>The app's own model; its migrations (Migrations/) know nothing of Kafka.</summary>
public sealed class ShopDbContext(DbContextOptions<ShopDbContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    public DbSet<CustomerTotal> CustomerTotals => Set<CustomerTotal>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>(order =>
        {
            order.ToTable("orders");
            order.Property(o => o.Id).HasColumnName("id").ValueGeneratedNever();
            order.Property(o => o.CustomerId).HasColumnName("customer_id");
            order.Property(o => o.Amount).HasColumnName("amount").HasPrecision(12, 2);
            order.Property(o => o.PlacedAt).HasColumnName("placed_at");
        });
        modelBuilder.Entity<CustomerTotal>(total =>
        {
            total.ToTable("customer_totals");
            total.HasKey(t => t.CustomerId);
            total.Property(t => t.CustomerId).HasColumnName("customer_id").ValueGeneratedNever();
            total.Property(t => t.Orders).HasColumnName("orders");
            total.Property(t => t.Total).HasColumnName("total").HasPrecision(14, 2);
        });
    }
}

public sealed class Order
{
    public long Id { get; set; }

    public long CustomerId { get; set; }

    public decimal Amount { get; set; }

    public DateTimeOffset PlacedAt { get; set; }
}

/// <summary>An aggregate updated read-modify-write: a single redelivered order would count twice.</summary>
public sealed class CustomerTotal
{
    public long CustomerId { get; set; }

    public int Orders { get; set; }

    public decimal Total { get; set; }
}
