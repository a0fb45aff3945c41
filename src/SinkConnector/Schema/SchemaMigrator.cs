using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace SinkConnector.Schema;

/// <summary>Applies or prints the connector's EF Core migrations (offsets, dead letters).</summary>
public static class SchemaMigrator
{
    // Any fixed 64-bit number, shared by all replicas: several `sink migrate` jobs started together
    // (one per replica, or a job racing a deploy) queue on it instead of racing CREATE SCHEMA/TABLE.
    private const long MigrationLockKey = 0x53_49_4E_4B_4D_49_47; // "SINKMIG"

    public static async Task<IReadOnlyList<string>> MigrateAsync(SinkDatabase database, CancellationToken cancellationToken)
    {
        await using var db = database.CreateContext();
        // Open once so the advisory lock and the migrations share one session.
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await using (var command = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            command.Parameters.AddWithValue("key", MigrationLockKey);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            await db.Database.MigrateAsync(cancellationToken);
            return pending;
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", MigrationLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>Idempotent SQL for all migrations: safe to run against a database at any version.</summary>
    public static string Script(SinkDatabase database)
    {
        using var db = database.CreateContext();
        return db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);
    }
}
