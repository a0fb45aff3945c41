using System.Globalization;
using Npgsql;
using SinkConnector.Testing;

namespace SinkConnector.Chaos;

/// <summary>
/// The harness's own access to the soak database. Unpooled on purpose: the faults terminate backends and restart the
/// server, and a pooled connection of the harness would die with them; one fresh connection per question is cheap.
/// </summary>
internal sealed class ChaosDatabase(string connectionString)
{
    private readonly string _connectionString = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read) => TestSql.QueryAsync(_connectionString, sql, read);

    /// <summary>Every other backend of this database is terminated (the sinks' connections: idle, busy or mid-commit).</summary>
    public Task<long> TerminateOtherBackendsAsync() => ScalarAsync(
        """
        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
        """);

    /// <summary>The stored next offset per (topic, partition) of the soak's group; null where claimed but never committed.</summary>
    /// <remarks>The owner is <c>host/pid/guid</c> of the last claimer: the pid names the sink log to read.</remarks>
    public async Task<Dictionary<(string Topic, int Partition), (long? NextOffset, long Epoch, string? Owner)>> StoredOffsetsAsync(string groupId)
    {
        var rows = await QueryAsync(
            $"SELECT topic, partition, next_offset, epoch, owner FROM sink.offsets WHERE group_id = '{groupId}'",
            r => (r.GetString(0), r.GetInt32(1), r.IsDBNull(2) ? (long?)null : r.GetInt64(2), r.GetInt64(3), r.IsDBNull(4) ? null : r.GetString(4)));
        return rows.ToDictionary(r => (r.Item1, r.Item2), r => (r.Item3, r.Item4, r.Item5));
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        return connection;
    }
}
