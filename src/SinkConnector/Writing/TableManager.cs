using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

public enum TableChangeKind
{
    CreateSchema,
    CreateTable,
    AddColumn,

    /// <summary>A partition of a <c>partition:</c> mapping's table, created with it (later ones at run time).</summary>
    CreatePartition,
}

/// <summary>One DDL statement (without the closing <c>;</c>) and the mapping it is for.</summary>
public sealed record TableChange(MappingConfig Mapping, TableChangeKind Kind, string Sql);

/// <summary>The statements that make the target tables fit the mappings, and what no statement may fix (type mismatches).</summary>
public sealed record TablePlan(IReadOnlyList<TableChange> Changes, IReadOnlyList<ConfigError> Problems);

/// <summary>What the database has of the mappings' target schemas and tables (existing tables only).</summary>
public sealed record TableCatalog(IReadOnlySet<string> Schemas, IReadOnlyDictionary<TableName, IReadOnlyList<DatabaseColumn>> Tables);

/// <summary>
/// Creates missing target schemas, tables and columns from the mappings (<c>sink tables</c>, <c>auto_create</c>,
/// <c>auto_evolve</c>). Never alters or drops what exists: a column of another type is reported, not changed.
/// </summary>
public static class TableManager
{
    // Any fixed 64-bit number, shared by all replicas: replicas starting together with auto_create queue on it,
    // and each re-plans after the one before it committed, so none tries to create what another just created.
    private const long TablesLockKey = 0x53_49_4E_4B_54_42_4C; // "SINKTBL"

    /// <summary>Everything that is missing, for every mapping.</summary>
    public static async Task<TablePlan> PlanAsync(NpgsqlConnection connection, IEnumerable<MappingConfig> mappings, CancellationToken cancellationToken)
    {
        var list = mappings.ToList();
        return Plan(list, await ReadCatalogAsync(connection, list, cancellationToken));
    }

    /// <summary>
    /// Plans and runs the changes <paramref name="filter"/> allows (all when null) in one transaction, under an
    /// advisory lock, and returns what it ran. Problems are returned, not thrown: the safe changes are applied anyway.
    /// </summary>
    public static async Task<TablePlan> ApplyAsync(
        NpgsqlDataSource dataSource, IEnumerable<MappingConfig> mappings, Func<MappingConfig, TableChangeKind, bool>? filter, CancellationToken cancellationToken)
    {
        var list = mappings.ToList();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, transaction, cancellationToken);
        // Planned only now, inside the lock: what another replica created meanwhile is no longer missing.
        var plan = Plan(list, await ReadCatalogAsync(connection, list, cancellationToken), filter);
        foreach (var change in plan.Changes)
        {
            await using var command = new NpgsqlCommand(change.Sql, connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return plan;
    }

    /// <summary>The advisory lock every DDL of the sink (tables, columns, partitions) is made under, until the transaction ends.</summary>
    public static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction);
        lockCommand.Parameters.AddWithValue("key", TablesLockKey);
        await lockCommand.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// For <c>sink run</c>: creates tables of mappings with <c>auto_create: true</c> and adds columns for those with
    /// <c>auto_evolve: true</c>. Does not touch the database when no mapping asks for either.
    /// </summary>
    public static Task<TablePlan> ApplyAutomaticAsync(NpgsqlDataSource dataSource, IEnumerable<MappingConfig> mappings, CancellationToken cancellationToken)
    {
        var list = mappings.ToList();
        return list.Any(m => m.AutoCreate || m.AutoEvolve)
            ? ApplyAsync(dataSource, list, IsAutomatic, cancellationToken)
            : Task.FromResult(new TablePlan([], []));
    }

    /// <summary>The startup filter: what <c>auto_create</c> and <c>auto_evolve</c> allow for a mapping.</summary>
    public static bool IsAutomatic(MappingConfig mapping, TableChangeKind kind) =>
        kind == TableChangeKind.AddColumn ? mapping.AutoEvolve : mapping.AutoCreate;

    /// <summary>
    /// The plan against <paramref name="catalog"/>. Mappings are planned in order, each against the catalog as the
    /// changes before it leave it, so two mappings of one table never create it or add a column twice.
    /// </summary>
    /// <param name="utcNow">Where the first partitions of a new <c>partition:</c> table start; now by default.</param>
    public static TablePlan Plan(
        IReadOnlyList<MappingConfig> mappings, TableCatalog catalog, Func<MappingConfig, TableChangeKind, bool>? filter = null, DateTime? utcNow = null)
    {
        filter ??= (_, _) => true;
        var schemas = new HashSet<string>(catalog.Schemas, StringComparer.Ordinal);
        var tables = catalog.Tables.ToDictionary(t => t.Key, t => t.Value.ToDictionary(c => c.Name, c => c.Type, StringComparer.Ordinal));
        var createdBy = new Dictionary<TableName, string>();
        var changes = new List<TableChange>();
        var problems = new List<ConfigError>();
        foreach (var mapping in mappings)
        {
            var table = mapping.Table;
            if (!tables.TryGetValue(table, out var columns))
            {
                if (!filter(mapping, TableChangeKind.CreateTable))
                {
                    continue;
                }

                if (!schemas.Contains(table.Schema))
                {
                    if (!filter(mapping, TableChangeKind.CreateSchema))
                    {
                        continue;
                    }

                    changes.Add(new TableChange(mapping, TableChangeKind.CreateSchema, $"CREATE SCHEMA IF NOT EXISTS {Sql.Quote(table.Schema)}"));
                    schemas.Add(table.Schema);
                }

                changes.Add(new TableChange(mapping, TableChangeKind.CreateTable, CreateTableSql(mapping, mappings)));
                if (mapping.Partition is not null)
                {
                    changes.AddRange(PartitionWindow.CreateSql(mapping, utcNow ?? DateTime.UtcNow)
                        .Select(sql => new TableChange(mapping, TableChangeKind.CreatePartition, sql)));
                }

                tables[table] = mapping.Columns.ToDictionary(c => c.Name, c => c.Type.SqlName, StringComparer.Ordinal);
                createdBy[table] = mapping.Name;
                continue;
            }

            foreach (var column in mapping.Columns)
            {
                if (!columns.TryGetValue(column.Name, out var existingType))
                {
                    if (filter(mapping, TableChangeKind.AddColumn))
                    {
                        // Always nullable: the table may already have rows, which have no value for it.
                        changes.Add(new TableChange(mapping, TableChangeKind.AddColumn,
                            $"ALTER TABLE {Sql.Quote(table)} ADD COLUMN {Sql.Quote(column.Name)} {column.Type.SqlName}"));
                        columns[column.Name] = column.Type.SqlName;
                    }
                }
                else if (!TableInspector.CopyCompatible(column.Type, existingType))
                {
                    var where = createdBy.TryGetValue(table, out var creator) ? $"as mapping {creator} creates it" : "in the database";
                    problems.Add(new ConfigError(mapping.File, $"columns.{column.Name}.type",
                        $"{table}.{column.Name} is {existingType} {where}, the mapping says {column.Type}; column types are never altered"));
                }
            }
        }

        return new TablePlan(changes, problems);
    }

    /// <summary>
    /// A column is NOT NULL unless it is <c>nullable: true</c> or another mapping into the same table does not write
    /// it (that mapping's rows would have no value for it). The primary key is the key of an upsert mapping.
    /// </summary>
    private static string CreateTableSql(MappingConfig mapping, IReadOnlyList<MappingConfig> mappings)
    {
        var siblings = mappings.Where(m => m.Table == mapping.Table).ToList();
        var definitions = mapping.Columns.Select(c =>
        {
            var notNull = siblings.All(m => m.Columns.Any(o => o.Name == c.Name && !o.Nullable));
            return $"{Sql.Quote(c.Name)} {c.Type.SqlName}{(notNull ? " NOT NULL" : "")}";
        }).ToList();
        if (mapping.Mode == WriteMode.Upsert && mapping.Key.Count > 0)
        {
            definitions.Add($"PRIMARY KEY ({string.Join(", ", mapping.Key.Select(Sql.Quote))})");
        }

        var partitioned = mapping.Partition is { } spec ? $" PARTITION BY RANGE ({Sql.Quote(spec.By)})" : "";
        return $"CREATE TABLE {Sql.Quote(mapping.Table)} ({string.Join(", ", definitions)}){partitioned}";
    }

    private static async Task<TableCatalog> ReadCatalogAsync(NpgsqlConnection connection, IReadOnlyList<MappingConfig> mappings, CancellationToken cancellationToken)
    {
        var schemas = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT nspname FROM pg_namespace WHERE nspname = ANY(@names)", connection))
        {
            command.Parameters.AddWithValue("names", mappings.Select(m => m.Table.Schema).Distinct().ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                schemas.Add(reader.GetString(0));
            }
        }

        var tables = new Dictionary<TableName, IReadOnlyList<DatabaseColumn>>();
        foreach (var table in mappings.Select(m => m.Table).Distinct())
        {
            if (await TableInspector.ColumnsAsync(connection, table, cancellationToken) is { } columns)
            {
                tables[table] = columns;
            }
        }

        return new TableCatalog(schemas, tables);
    }
}
