using Npgsql;
using SinkConnector.Configuration;

namespace SinkConnector.Schema;

/// <summary>
/// Identifiers from configuration reach SQL only through here, always double-quoted; values always go as
/// parameters or through COPY.
/// </summary>
public static class Sql
{
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string Quote(TableName table) => Quote(table.Schema) + "." + Quote(table.Name);

    public static string Table(string schema, string table) => Quote(schema) + "." + Quote(table);

    /// <summary>Runs a statement without parameters (DDL, savepoints) on the connection, inside its open transaction if any.</summary>
    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
