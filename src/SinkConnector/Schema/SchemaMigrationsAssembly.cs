using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Internal;

namespace SinkConnector.Schema;

/// <summary>A migration whose tables live in the schema named by configuration.</summary>
public abstract class SchemaMigration(string schema) : Migration
{
    protected string Schema { get; } = schema;
}

/// <summary>
/// The model snapshot (what the migrations have built so far), in the schema named by configuration: EF compares it
/// with the current model for <c>dotnet ef migrations add</c> and for the pending-model-changes check of a migrate.
/// </summary>
public abstract class SchemaModelSnapshot(string schema) : ModelSnapshot
{
    protected string Schema { get; } = schema;
}

/// <summary>
/// EF creates migrations and the model snapshot with a parameterless constructor; ours need the configured schema, so
/// this replacement of EF's migrations assembly passes it in. This is EF's documented extension point for
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
    private ModelSnapshot? _modelSnapshot;

    public override ModelSnapshot? ModelSnapshot => _modelSnapshot ??= CreateModelSnapshot();

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

    private ModelSnapshot? CreateModelSnapshot()
    {
        var snapshotClass = LoadableTypes().SingleOrDefault(t =>
            t.IsSubclassOf(typeof(SchemaModelSnapshot))
            && !t.IsAbstract
            && t.GetCustomAttribute<DbContextAttribute>()?.ContextType == typeof(SinkDbContext));
        return snapshotClass is null ? base.ModelSnapshot : (ModelSnapshot)Activator.CreateInstance(snapshotClass, _schema)!;
    }

    /// <summary>
    /// The migrations assembly also holds the design-time services for <c>dotnet ef</c>, whose base types are not
    /// deployed with the sink: those types cannot load, and are not needed.
    /// </summary>
    private IEnumerable<Type> LoadableTypes()
    {
        try
        {
            return Assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }
}
