using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.PgBinary;

namespace SinkConnector.Writing;

/// <summary>
/// Reads the element type OIDs of a mapping's enum[] and citext[] columns (<see cref="PgElementOid"/>) before its rows
/// are encoded. The table check takes them from the target columns themselves; this covers the writers that run
/// without it: a table template's mapping, whose tables appear with their topics while rows of the first batch are
/// already being encoded (by type name, at startup), and dead-letter replay (from the table).
/// </summary>
public static class ElementOidResolver
{
    public static bool Needs(MappingConfig mapping)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return mapping.Columns.Any(c => c.Type.ElementOid is not null);
    }

    /// <summary>From the target table's columns, as the table check does; a missing table is left to the write to report.</summary>
    public static async Task FromTableAsync(NpgsqlConnection connection, MappingConfig mapping, CancellationToken cancellationToken)
    {
        if (!Needs(mapping) || await TableInspector.ColumnsAsync(connection, mapping.Table, cancellationToken) is not { } columns)
        {
            return;
        }

        var byName = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        foreach (var column in mapping.Columns)
        {
            if (column.Type.ElementOid is { } oid && byName.TryGetValue(column.Name, out var existing) && existing.ElementOid != 0)
            {
                oid.Resolve(existing.ElementOid);
            }
        }
    }

    /// <summary>
    /// By the element type's name, resolved like an unqualified type in DDL (the search_path): one query for the
    /// mapping's columns. Each name that does not resolve is a config error naming the column and the fix.
    /// </summary>
    public static async Task<IReadOnlyList<ConfigError>> ByNameAsync(NpgsqlConnection connection, MappingConfig mapping, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var columns = mapping.Columns.Where(c => c.Type.ElementOid is not null).ToList();
        if (columns.Count == 0)
        {
            return [];
        }

        // to_regtype takes the quoted name as a value: the identifier never becomes part of the SQL text.
        await using var command = new NpgsqlCommand("SELECT to_regtype(n)::oid FROM unnest(@names) WITH ORDINALITY AS t(n, i) ORDER BY i", connection);
        command.Parameters.AddWithValue("names", columns.Select(c => ElementSqlName(c.Type)).ToArray());
        var errors = new List<ConfigError>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        foreach (var column in columns)
        {
            await reader.ReadAsync(cancellationToken);
            if (!reader.IsDBNull(0))
            {
                column.Type.ElementOid!.Resolve(reader.GetFieldValue<uint>(0));
            }
            else
            {
                errors.Add(new ConfigError(mapping.File, $"columns.{column.Name}.type", column.Type.EnumType is { } enumType
                    ? $"enum type {enumType} does not exist (CREATE TYPE {enumType.SqlName} AS ENUM (...); auto_create creates tables, not enum types)"
                    : "type citext does not exist on the search_path (CREATE EXTENSION citext)"));
            }
        }

        return errors;
    }

    private static string ElementSqlName(ColumnType type) => type.EnumType?.SqlName ?? "citext";
}
