using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Internal;

namespace SinkConnector.Postgres;

/// <summary>A migration whose tables live in the schema named by configuration.</summary>
public abstract class SchemaMigration(string schema) : Migration
{
    protected string Schema { get; } = schema;
}

/// <summary>
/// EF creates migrations with a parameterless constructor; ours need the configured schema, so this
/// replacement of EF's migrations assembly passes it in. This is EF's documented extension point for
/// schema-per-tenant migrations, which lives in an internal namespace.
/// </summary>
[SuppressMessage("Usage", "EF1001:Internal EF Core API usage.", Justification = "MigrationsAssembly is the supported hook for migration construction.")]
internal sealed class SchemaMigrationsAssembly(
    ICurrentDbContext currentContext,
    IDbContextOptions options,
    IMigrationsIdGenerator idGenerator,
    IDiagnosticsLogger<DbLoggerCategory.Migrations> logger)
    : MigrationsAssembly(currentContext, options, idGenerator, logger)
{
    private readonly string _schema = ((SinkDbContext)currentContext.Context).Schema;

    public override Migration CreateMigration(TypeInfo migrationClass, string activeProvider)
    {
        if (!migrationClass.IsSubclassOf(typeof(SchemaMigration)))
        {
            return base.CreateMigration(migrationClass, activeProvider);
        }

        var migration = (Migration)Activator.CreateInstance(migrationClass.AsType(), _schema)!;
        migration.ActiveProvider = activeProvider;
        return migration;
    }
}
