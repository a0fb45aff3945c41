using Microsoft.EntityFrameworkCore;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Configuration.Loading;

namespace SinkConnector.Schema;

/// <summary>
/// What <c>sink run</c> needs from the connector's own schema before it joins the group: a writable server, the
/// schema migrated, and the privileges on its tables. Retrying cannot fix any of these, so each comes with what to do.
/// </summary>
public static class ConnectorSchema
{
    /// <summary>The connector's tables and the privileges <c>sink run</c> uses on them.</summary>
    private static readonly (string Table, string[] Privileges)[] s_tables =
    [
        ("offsets", ["SELECT", "INSERT", "UPDATE"]),
        ("dead_letters", ["SELECT", "INSERT"]),
        ("__EFMigrationsHistory", ["SELECT"]),
    ];

    /// <summary>Every problem found, as errors on <c>postgres.*</c> of sink.yaml; empty when run can start.</summary>
    public static async Task<IReadOnlyList<ConfigError>> CheckAsync(SinkDatabase database, string configDirectory, CancellationToken cancellationToken)
    {
        var file = Path.Combine(configDirectory, ConfigLoader.SinkFileName);
        var schema = database.Schema;
        var migrate = MigrateHint(configDirectory);
        var errors = new List<ConfigError>();
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);

        string role;
        await using (var command = new NpgsqlCommand(
            """
            SELECT current_user, current_setting('transaction_read_only') = 'on',
                   (SELECT has_schema_privilege(n.oid, 'USAGE') FROM pg_namespace n WHERE n.nspname = @schema)
            """, connection))
        {
            command.Parameters.AddWithValue("schema", schema);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            role = reader.GetString(0);
            if (reader.GetBoolean(1))
            {
                errors.Add(new ConfigError(file, "postgres.connection_string", ReadOnlyHint));
            }

            if (reader.IsDBNull(2))
            {
                errors.Add(new ConfigError(file, "postgres.schema", $"schema {Sql.Quote(schema)} does not exist: the connector schema is not migrated; {migrate}"));
                return errors;
            }

            if (!reader.GetBoolean(2))
            {
                errors.Add(new ConfigError(file, "postgres.schema", $"role {Sql.Quote(role)} has no USAGE on schema {Sql.Quote(schema)}: {GrantHint(schema, role)}"));
                return errors;
            }
        }

        // The catalog, not the tables: it answers whatever the role may do with them.
        var missing = new List<string>();
        await using (var command = new NpgsqlCommand(
            """
            SELECT t.name, c.oid IS NOT NULL,
                   coalesce(array_agg(p.privilege) FILTER (WHERE NOT has_table_privilege(c.oid, p.privilege)), '{}')
            FROM unnest(@tables) AS t(name)
            LEFT JOIN pg_class c ON c.relname = t.name AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = @schema)
            CROSS JOIN unnest(@privileges) AS p(privilege)
            GROUP BY t.name, c.oid
            """, connection))
        {
            command.Parameters.AddWithValue("schema", schema);
            command.Parameters.AddWithValue("tables", s_tables.Select(t => t.Table).ToArray());
            command.Parameters.AddWithValue("privileges", s_tables.SelectMany(t => t.Privileges).Distinct().ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var table = reader.GetString(0);
                if (!reader.GetBoolean(1))
                {
                    missing.Add(table);
                    continue;
                }

                var needed = s_tables.Single(t => t.Table == table).Privileges;
                var lacking = needed.Intersect(reader.GetFieldValue<string[]>(2)).ToList();
                if (lacking.Count > 0)
                {
                    errors.Add(new ConfigError(file, "postgres.schema",
                        $"role {Sql.Quote(role)} lacks {string.Join(", ", lacking)} on {Sql.Table(schema, table)}: {GrantHint(schema, role)}"));
                }
            }
        }

        if (missing.Count > 0)
        {
            errors.Add(new ConfigError(file, "postgres.schema",
                $"{string.Join(", ", missing.Order(StringComparer.Ordinal).Select(t => Sql.Table(schema, t)))} missing: the connector schema is not migrated; {migrate}"));
            return errors;
        }

        if (errors.Count == 0)
        {
            await using var db = database.CreateContext();
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                errors.Add(new ConfigError(file, "postgres.schema",
                    $"schema {Sql.Quote(schema)} lacks {pending.Count} migration(s) of this version ({string.Join(", ", pending)}); {migrate}"));
            }
        }

        return errors;
    }

    /// <summary>
    /// What to do about a failure on the connector's tables that retrying cannot fix (the schema dropped, privileges
    /// revoked, a failover to a read-only server while running); null for any other failure. The server's error may
    /// be wrapped (EF Core wraps what its execution strategy saw).
    /// </summary>
    public static string? Explain(Exception e, ConnectorSettings connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var postgres = e as PostgresException;
        for (var current = e.InnerException; postgres is null && current is not null; current = current.InnerException)
        {
            postgres = current as PostgresException;
        }

        var schema = connector.Postgres.Schema;
        var hint = postgres?.SqlState switch
        {
            PostgresErrorCodes.ReadOnlySqlTransaction => ReadOnlyHint,
            PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName or PostgresErrorCodes.UndefinedColumn =>
                $"the connector schema {Sql.Quote(schema)} is missing or not migrated to this version; {connector.MigrateHint}",
            PostgresErrorCodes.InsufficientPrivilege =>
                GrantHint(schema, new NpgsqlConnectionStringBuilder(connector.Postgres.ConnectionString).Username ?? "<role>"),
            _ => null,
        };
        return hint is null ? null : $"{hint} ({postgres!.SqlState}: {postgres.MessageText})";
    }

    private const string ReadOnlyHint =
        "the server is read-only (a standby, for example after a failover, or default_transaction_read_only=on): " +
        "point postgres.connection_string at the primary";

    private static string MigrateHint(string configDirectory) => $"run `sink migrate --config {configDirectory}`";

    private static string GrantHint(string schema, string role) =>
        $"GRANT USAGE ON SCHEMA {Sql.Quote(schema)} TO {Sql.Quote(role)}; " +
        $"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {Sql.Quote(schema)} TO {Sql.Quote(role)}";
}
