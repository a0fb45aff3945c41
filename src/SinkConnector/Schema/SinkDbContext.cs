using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace SinkConnector.Schema;

/// <summary>
/// The connector's own tables. The schema comes from configuration, so the model (and the migrations, see
/// <see cref="SchemaMigrationsAssembly"/>) are built per schema.
/// </summary>
/// <remarks>
/// This model is the one definition of the tables: <c>dotnet ef migrations add</c> turns a change here into a migration
/// under <c>migrations/</c> (and the model snapshot there). Key and index names are those the first migrations created.
/// </remarks>
public sealed class SinkDbContext(DbContextOptions<SinkDbContext> options, string schema) : DbContext(options)
{
    public string Schema { get; } = schema;

    public DbSet<PartitionOffset> Offsets => Set<PartitionOffset>();

    public DbSet<DeadLetter> DeadLetters => Set<DeadLetter>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);

        modelBuilder.Entity<PartitionOffset>(e =>
        {
            e.ToTable("offsets");
            e.HasKey(o => new { o.GroupId, o.Topic, o.Partition }).HasName("pk_offsets");
            e.Property(o => o.GroupId).HasColumnName("group_id");
            e.Property(o => o.Topic).HasColumnName("topic");
            e.Property(o => o.Partition).HasColumnName("partition");
            e.Property(o => o.NextOffset).HasColumnName("next_offset");
            e.Property(o => o.Epoch).HasColumnName("epoch");
            e.Property(o => o.Owner).HasColumnName("owner");
            e.Property(o => o.UpdatedAt).HasColumnName("updated_at");
        });

        modelBuilder.Entity<DeadLetter>(e =>
        {
            e.ToTable("dead_letters");
            e.HasKey(d => d.Id).HasName("pk_dead_letters");
            e.Property(d => d.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            e.Property(d => d.GroupId).HasColumnName("group_id");
            e.Property(d => d.Mapping).HasColumnName("mapping");
            e.Property(d => d.Topic).HasColumnName("topic");
            e.Property(d => d.Partition).HasColumnName("partition");
            e.Property(d => d.Offset).HasColumnName("offset");
            e.Property(d => d.KafkaTimestamp).HasColumnName("kafka_timestamp");
            e.Property(d => d.Key).HasColumnName("key");
            e.Property(d => d.Value).HasColumnName("value");
            e.Property(d => d.Headers).HasColumnName("headers").HasColumnType("jsonb");
            e.Property(d => d.ErrorKind).HasColumnName("error_kind");
            e.Property(d => d.ErrorMessage).HasColumnName("error_message");
            e.Property(d => d.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
            // One dead letter per connector, message and mapping: a message read again (a re-delivered batch, an
            // offsets reset) updates its dead letter; connectors sharing the schema each keep their own.
            e.HasIndex(d => new { d.GroupId, d.Topic, d.Partition, d.Offset, d.Mapping })
                .IsUnique()
                .HasDatabaseName("ix_dead_letters_group_id_topic_partition_offset_mapping");
            e.HasIndex(d => new { d.Mapping, d.ErrorKind }).HasDatabaseName("ix_dead_letters_mapping_error_kind");
        });
    }
}

/// <summary>Different schemas are different models; EF caches models per context type unless told otherwise.</summary>
internal sealed class SchemaModelCacheKeyFactory : IModelCacheKeyFactory
{
    public object Create(DbContext context, bool designTime) =>
        (context.GetType(), ((SinkDbContext)context).Schema, designTime);
}
