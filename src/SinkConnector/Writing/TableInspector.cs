using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.PgBinary;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

/// <summary>A column as the database has it.</summary>
public sealed record DatabaseColumn(string Name, string Type, bool NotNull, bool HasDefault)
{
    /// <summary>pg_type.typelem of the column's type: an array column's element type OID (0 for most other types).</summary>
    public uint ElementOid { get; init; }
}

/// <summary>Checks that each mapping's target table exists with columns binary COPY can write.</summary>
public static class TableInspector
{
    public static async Task<IReadOnlyList<DatabaseColumn>?> ColumnsAsync(NpgsqlConnection connection, TableName table, CancellationToken cancellationToken)
    {
        // to_regclass takes the quoted name as a value: the identifier never becomes part of the SQL text.
        await using var command = new NpgsqlCommand(
            """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', t.typelem
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = to_regclass(@table) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """, connection);
        command.Parameters.AddWithValue("table", Sql.Quote(table));
        var columns = new List<DatabaseColumn>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            columns.Add(new DatabaseColumn(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), reader.GetBoolean(3))
            {
                ElementOid = reader.GetFieldValue<uint>(4),
            });
        }

        return columns.Count == 0 ? null : columns;
    }

    /// <summary>Every incompatibility between a mapping and its table, as config errors on the mapping file.</summary>
    public static async Task<IReadOnlyList<ConfigError>> CheckAsync(NpgsqlConnection connection, MappingConfig mapping, CancellationToken cancellationToken)
    {
        var errors = new List<ConfigError>();
        var columns = await ColumnsAsync(connection, mapping.Table, cancellationToken);
        if (columns is null)
        {
            errors.Add(new ConfigError(mapping.File, "table", $"table {mapping.Table} does not exist (create it, or run `sink tables apply`)"));
            // Creating it (auto_create, `sink tables apply`) needs the enum types its columns name.
            errors.AddRange(await EnumChecks.ResolveAsync(connection, mapping, cancellationToken));
            return errors;
        }

        var byName = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        errors.AddRange(await EnumChecks.ResolveAsync(connection, mapping, cancellationToken));
        foreach (var column in mapping.Columns)
        {
            if (!byName.TryGetValue(column.Name, out var existing))
            {
                errors.Add(new ConfigError(mapping.File, $"columns.{column.Name}", $"column does not exist in {mapping.Table}"));
            }
            else if (!CopyCompatible(column.Type, existing.Type))
            {
                errors.Add(new ConfigError(mapping.File, $"columns.{column.Name}.type",
                    $"mapping type {column.Type} cannot be written into {mapping.Table}.{column.Name} of type {existing.Type}"));
            }
            else
            {
                // The array header's element OID of an enum[] or citext[] column: the target column's own element type.
                column.Type.ElementOid?.Resolve(existing.ElementOid);
            }
        }

        var mapped = mapping.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var existing in columns.Where(c => c.NotNull && !c.HasDefault && !mapped.Contains(c.Name)))
        {
            errors.Add(new ConfigError(mapping.File, "columns",
                $"{mapping.Table}.{existing.Name} is NOT NULL without a default but is not mapped; every insert would fail"));
        }

        var partitionErrors = PartitionedTableCheck.Check(mapping, await PartitionedTableCheck.ReadAsync(connection, mapping.Table, cancellationToken));
        errors.AddRange(partitionErrors);
        // A key that leaves out partition columns cannot have a unique index: the partition error says what to fix.
        if (mapping.Mode == WriteMode.Upsert && !partitionErrors.Any(e => e.Key == "key") && !await HasConflictTargetAsync(connection, mapping, cancellationToken))
        {
            errors.Add(new ConfigError(mapping.File, "key",
                $"no primary key or unique index on {mapping.Table} is exactly ({string.Join(", ", mapping.Key)}); mode upsert needs one for " +
                $"ON CONFLICT. Add it (ALTER TABLE {Sql.Quote(mapping.Table)} ADD PRIMARY KEY ({string.Join(", ", mapping.Key.Select(Sql.Quote))})) or change key"));
        }

        var lacking = await LackingPrivilegesAsync(connection, mapping, [.. mapping.Columns.Select(c => c.Name).Where(byName.ContainsKey)], cancellationToken);
        if (lacking is { } privileges)
        {
            errors.Add(new ConfigError(mapping.File, "table", privileges));
        }

        return errors;
    }

    /// <summary>
    /// The privileges the sink's writes take on the table: INSERT on the mapped columns (COPY), and for mode upsert
    /// also UPDATE on them, SELECT on the key (ON CONFLICT and DELETE ... USING read it), DELETE (tombstones) and
    /// TEMPORARY on the database (the staging tables). Null when the role has them all.
    /// </summary>
    private static async Task<string?> LackingPrivilegesAsync(NpgsqlConnection connection, MappingConfig mapping, string[] columns, CancellationToken cancellationToken)
    {
        var upsert = mapping.Mode == WriteMode.Upsert;
        await using var command = new NpgsqlCommand(
            """
            SELECT current_user,
                   (SELECT coalesce(bool_and(has_column_privilege(c.oid, col, 'INSERT')), true) FROM unnest(@columns) AS col),
                   NOT @upsert OR (SELECT coalesce(bool_and(has_column_privilege(c.oid, col, 'UPDATE')), true) FROM unnest(@columns) AS col),
                   NOT @upsert OR (SELECT coalesce(bool_and(has_column_privilege(c.oid, col, 'SELECT')), true) FROM unnest(@key) AS col),
                   NOT @upsert OR has_table_privilege(c.oid, 'DELETE'),
                   NOT @upsert OR has_database_privilege(current_database(), 'TEMPORARY')
            FROM pg_class c WHERE c.oid = to_regclass(@table)
            """, connection);
        command.Parameters.AddWithValue("table", Sql.Quote(mapping.Table));
        command.Parameters.AddWithValue("columns", columns);
        command.Parameters.AddWithValue("key", upsert ? mapping.Key.Where(columns.Contains).ToArray() : Array.Empty<string>());
        command.Parameters.AddWithValue("upsert", upsert);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var role = Sql.Quote(reader.GetString(0));
        var table = Sql.Quote(mapping.Table);
        string[] names = ["INSERT", "UPDATE", "SELECT", "DELETE", "TEMPORARY"];
        var lacking = Enumerable.Range(1, names.Length).Where(i => !reader.GetBoolean(i)).Select(i => names[i - 1]).ToList();
        if (lacking.Count == 0)
        {
            return null;
        }

        var grants = new List<string> { $"GRANT {(upsert ? "SELECT, INSERT, UPDATE, DELETE" : "INSERT")} ON {table} TO {role}" };
        if (lacking.Contains("TEMPORARY"))
        {
            grants.Add($"GRANT TEMPORARY ON DATABASE {Sql.Quote(connection.Database)} TO {role}");
        }

        return $"role {role} lacks {string.Join(", ", lacking)} on {table}{(upsert ? " (mode upsert)" : "")}: {string.Join("; ", grants)}";
    }

    /// <summary>
    /// ON CONFLICT (key) infers a unique index on exactly those columns, in any order; partial, expression and
    /// deferrable indexes cannot serve, and neither can one that merely contains the key columns.
    /// </summary>
    private static async Task<bool> HasConflictTargetAsync(NpgsqlConnection connection, MappingConfig mapping, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT array_agg(a.attname::text)
            FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = to_regclass(@table) AND i.indisunique AND i.indisvalid AND i.indimmediate
              AND i.indpred IS NULL AND i.indexprs IS NULL
            GROUP BY i.indexrelid
            """, connection);
        command.Parameters.AddWithValue("table", Sql.Quote(mapping.Table));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.GetFieldValue<string[]>(0).ToHashSet(StringComparer.Ordinal).SetEquals(mapping.Key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Binary COPY sends each value in the wire format of the mapping's type, so the base types must be the same;
    /// modifiers (length, precision) are enforced by Postgres on input and may differ; text and varchar share a format.
    /// </summary>
    public static bool CopyCompatible(ColumnType mappingType, string databaseType)
    {
        ArgumentNullException.ThrowIfNull(mappingType);
        if (mappingType.EnumType is not null || mappingType.Scalar == ScalarType.Citext)
        {
            // format_type writes an array of a named type as the name and [], after any quotes.
            if (mappingType.IsArray != databaseType.EndsWith("[]", StringComparison.Ordinal))
            {
                return false;
            }

            var element = mappingType.IsArray ? databaseType[..^2] : databaseType;
            // An extension type: format_type qualifies it when its schema is not on the search_path.
            return mappingType.EnumType is { } enumType
                ? EnumChecks.SameName(enumType, element)
                : element == "citext" || element.EndsWith(".citext", StringComparison.Ordinal);
        }

        static string Base(string type)
        {
            var isArray = type.EndsWith("[]", StringComparison.Ordinal);
            var name = isArray ? type[..^2] : type;
            var paren = name.IndexOf('(', StringComparison.Ordinal);
            if (paren >= 0)
            {
                name = name[..paren] + name[(name.IndexOf(')', paren) + 1)..];
            }

            name = name.Trim() is "character varying" or "character" ? "text" : name.Trim();
            return isArray ? name + "[]" : name;
        }

        return Base(mappingType.SqlName) == Base(databaseType);
    }
}
