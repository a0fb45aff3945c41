using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

/// <summary>How a table is partitioned (<c>pg_partitioned_table</c>); <paramref name="Columns"/> null for a key with expressions.</summary>
public sealed record PartitionKey(string Definition, char Strategy, IReadOnlyList<string>? Columns);

/// <summary>The checks of <c>sink validate</c> (and startup) that concern declaratively partitioned target tables.</summary>
public static class PartitionedTableCheck
{
    public static async Task<PartitionKey?> ReadAsync(NpgsqlConnection connection, TableName table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT pg_get_partkeydef(p.partrelid), p.partstrat::text,
                   CASE WHEN 0 = ANY (p.partattrs::int2[]) THEN NULL ELSE
                       array(SELECT a.attname::text FROM unnest(p.partattrs::int2[]) WITH ORDINALITY AS k(attnum, n)
                             JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.attnum ORDER BY k.n) END
            FROM pg_partitioned_table p WHERE p.partrelid = to_regclass(@table)
            """, connection);
        command.Parameters.AddWithValue("table", Sql.Quote(table));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new PartitionKey(reader.GetString(0), reader.GetString(1)[0], reader.IsDBNull(2) ? null : reader.GetFieldValue<string[]>(2));
    }

    /// <summary>
    /// An upsert key that leaves out a partition column cannot have a unique index on the parent (Postgres requires
    /// the partition key in every one), so ON CONFLICT would have no target; a <c>partition:</c> mapping needs its
    /// table range-partitioned on exactly that column.
    /// </summary>
    public static List<ConfigError> Check(MappingConfig mapping, PartitionKey? key)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var errors = new List<ConfigError>();
        if (key is not null && mapping.Mode == WriteMode.Upsert)
        {
            var missing = key.Columns?.Where(c => !mapping.Key.Contains(c)).ToList();
            if (missing is null || missing.Count > 0)
            {
                var what = missing is null ? "a partition key with expressions, which no upsert key can include" : $"the partition column(s) {string.Join(", ", missing)}";
                errors.Add(new ConfigError(mapping.File, "key",
                    $"{mapping.Table} is partitioned by {key.Definition}: the upsert key ({string.Join(", ", mapping.Key)}) must include {what}. " +
                    "A unique index on a partitioned table, and so ON CONFLICT's target, always includes the partition key: add them to key and to the table's primary key"));
            }
        }

        if (mapping.Partition is { } spec && (key is null || key.Strategy != 'r' || key.Columns is not [var only] || only != spec.By))
        {
            var actual = key is null ? "not partitioned" : $"partitioned by {key.Definition}";
            errors.Add(new ConfigError(mapping.File, "partition.by",
                $"{mapping.Table} is {actual}, but partition: needs it PARTITION BY RANGE ({Sql.Quote(spec.By)}); partitions are never added to a table partitioned otherwise " +
                "(let auto_create or `sink tables apply` create it on an empty database, or create it so yourself)"));
        }

        return errors;
    }
}
