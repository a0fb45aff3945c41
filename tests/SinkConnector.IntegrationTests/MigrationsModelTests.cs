using Microsoft.EntityFrameworkCore;
using SinkConnector.Configuration;
using SinkConnector.Schema;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// The model in SinkDbContext is the one definition of the connector's tables: the migrations (and their model
/// snapshot) must build exactly it, in whatever schema is configured.
/// </summary>
public class MigrationsModelTests(TestServices services)
{
    /// <summary>
    /// What <c>dotnet ef migrations add</c> compares: a model change without a migration (a property added to an entity,
    /// a renamed column or index) fails this, and would otherwise stop <c>sink migrate</c> with PendingModelChangesWarning.
    /// A schema other than the design-time one proves the snapshot names no schema of its own.
    /// </summary>
    [Theory]
    [InlineData("sink")]
    [InlineData("Tenant B")]
    public async Task The_migrations_leave_no_pending_model_changes_in_any_schema(string schema)
    {
        // Comparing the snapshot with the model connects to nothing.
        await using var database = new SinkDatabase(new PostgresSettings { ConnectionString = "Host=unused.invalid", Schema = schema });
        await using var db = database.CreateContext();

        Assert.False(db.Database.HasPendingModelChanges(), "The model has changed since the last migration: add one (docs: development, migrations).");
    }

    /// <summary>
    /// The hand-written first migrations against what EF creates from the model: same columns, types, defaults,
    /// identity, keys and indexes (the snapshot is generated from the model, so this is what ties it to the database).
    /// </summary>
    [Fact]
    public async Task Migrating_creates_the_tables_the_model_describes()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var connectionString = await services.Postgres.CreateDatabaseAsync("migrations_model", cancellationToken);
        await using (var migrated = new SinkDatabase(new PostgresSettings { ConnectionString = connectionString, Schema = "migrated" }))
        {
            await SchemaMigrator.MigrateAsync(migrated, cancellationToken);
        }

        await using (var modelled = new SinkDatabase(new PostgresSettings { ConnectionString = connectionString, Schema = "modelled" }))
        await using (var db = modelled.CreateContext())
        {
            await db.Database.ExecuteSqlRawAsync(db.Database.GenerateCreateScript(), cancellationToken);
        }

        Assert.Equal(await DescribeAsync(connectionString, "modelled"), await DescribeAsync(connectionString, "migrated"));
    }

    private static async Task<List<string>> DescribeAsync(string connectionString, string schema)
    {
        var quoted = Sql.Quote(schema);
        var columns = await TestSql.QueryAsync(
            connectionString,
            $"""
            SELECT table_name || '.' || column_name || ' ' || data_type || ' nullable=' || is_nullable
                || ' default=' || coalesce(column_default, '') || ' identity=' || coalesce(identity_generation, '')
            FROM information_schema.columns
            WHERE table_schema = '{schema}' AND table_name <> '__EFMigrationsHistory'
            ORDER BY table_name, column_name
            """,
            r => r.GetString(0));
        var indexes = await TestSql.QueryAsync(
            connectionString,
            $"""
            SELECT indexdef FROM pg_indexes
            WHERE schemaname = '{schema}' AND tablename <> '__EFMigrationsHistory'
            ORDER BY indexname
            """,
            r => r.GetString(0).Replace(schema + ".", string.Empty, StringComparison.Ordinal));
        var constraints = await TestSql.QueryAsync(
            connectionString,
            $"""
            SELECT conrelid::regclass::text || ' ' || conname || ' ' || contype::text FROM pg_constraint
            WHERE connamespace = '{quoted}'::regnamespace AND conrelid::regclass::text NOT LIKE '%__EFMigrationsHistory%'
            ORDER BY conname
            """,
            r => r.GetString(0).Replace(schema + ".", string.Empty, StringComparison.Ordinal));
        return [.. columns, .. indexes, .. constraints];
    }
}
