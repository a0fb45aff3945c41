using Npgsql;

namespace SinkConnector.Schema;

/// <summary>One Postgres backend of this sink as <c>pg_stat_activity</c> shows it, and the backends it waits for.</summary>
public sealed record BackendActivity(
    int Pid, string? State, string? WaitEventType, string? WaitEvent, DateTime? QueryStart, DateTime? TransactionStart, string? Query, int[] BlockedBy);

/// <summary>
/// What the sink's own backends are doing: tells a write stuck in Postgres (waiting for a lock, a long statement)
/// from one stuck in the process (backends idle, or idle in transaction).
/// </summary>
public static class BackendActivities
{
    /// <summary>Characters of each backend's current query that are kept: enough to recognise the statement.</summary>
    public const int QueryChars = 80;

    private const string Sql = """
        SELECT pid, state, wait_event_type, wait_event, query_start, xact_start, left(query, $2), pg_blocking_pids(pid)
        FROM pg_stat_activity
        WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()
        ORDER BY pid
        """;

    /// <summary>
    /// Reads the backends of <paramref name="applicationName"/> in the database of <paramref name="connectionString"/> over a
    /// connection of its own, outside any pool: the sink's pool may be the thing that is stuck.
    /// </summary>
    public static async Task<IReadOnlyList<BackendActivity>> ReadAsync(string connectionString, string applicationName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var seconds = (int)Math.Max(1, Math.Ceiling(timeout.TotalSeconds));
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            Timeout = seconds,
            CommandTimeout = seconds,
            // Its own name: the check is not one of the backends it reports.
            ApplicationName = applicationName + " (stall check)",
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(Sql, connection) { Parameters = { new() { Value = applicationName }, new() { Value = QueryChars } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var backends = new List<BackendActivity>();
        while (await reader.ReadAsync(cancellationToken))
        {
            backends.Add(new BackendActivity(
                reader.GetInt32(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetDateTime(4),
                reader.IsDBNull(5) ? null : reader.GetDateTime(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.GetFieldValue<int[]>(7)));
        }

        return backends;
    }
}
