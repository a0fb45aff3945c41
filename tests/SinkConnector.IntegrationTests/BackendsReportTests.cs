using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.Schema;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Event 1033 beside a commit stall (1030): the sink's own backends from <c>pg_stat_activity</c>, read over a connection
/// outside the pool, so a write waiting for a lock in Postgres shows as such, with the backend that holds the lock.
/// </summary>
public class BackendsReportTests(TestServices services)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_write_waiting_for_a_lock_is_logged_with_its_wait_event_query_and_the_blocking_backend()
    {
        var connectionString = await services.Postgres.CreateDatabaseAsync("backends_lock", Ct);
        await using var database = new SinkDatabase(new PostgresSettings { ConnectionString = connectionString });
        await using (var setup = await database.DataSource.OpenConnectionAsync(Ct))
        {
            await new NpgsqlCommand("CREATE TABLE held (id bigint)", setup).ExecuteNonQueryAsync(Ct);
        }

        // Both from the sink's own pool, as its writes are: the holder idles in its transaction, the writer waits.
        await using var holder = await database.DataSource.OpenConnectionAsync(Ct);
        await using var holding = await holder.BeginTransactionAsync(Ct);
        await new NpgsqlCommand("LOCK TABLE held IN ACCESS EXCLUSIVE MODE", holder, holding).ExecuteNonQueryAsync(Ct);
        await using var writer = await database.DataSource.OpenConnectionAsync(Ct);
        var write = new NpgsqlCommand("INSERT INTO held VALUES (1)", writer).ExecuteNonQueryAsync(Ct);
        await WaitUntilWaitingForLockAsync(connectionString, writer.ProcessID);

        var log = new CollectingLogger();
        var report = new BackendsReport(database, log);
        report.Start();
        await report.Reading;

        var lines = log.Lines.Where(l => l.Contains("[1033]", StringComparison.Ordinal)).ToList();
        var waiting = Assert.Single(lines, l => l.Contains($"pid {writer.ProcessID},", StringComparison.Ordinal));
        Assert.Contains("Postgres backend of sink: ", waiting, StringComparison.Ordinal);
        Assert.Contains("state active, waiting for Lock/relation", waiting, StringComparison.Ordinal);
        Assert.Contains($"blocked by pid(s) {holder.ProcessID};", waiting, StringComparison.Ordinal);
        Assert.Contains("query: INSERT INTO held VALUES (1)", waiting, StringComparison.Ordinal);
        var holding1 = Assert.Single(lines, l => l.Contains($"pid {holder.ProcessID},", StringComparison.Ordinal));
        Assert.Contains("state idle in transaction", holding1, StringComparison.Ordinal);
        Assert.Contains("blocked by pid(s) none;", holding1, StringComparison.Ordinal);
        Assert.DoesNotContain("stall check", string.Join('\n', lines), StringComparison.Ordinal);

        await holding.RollbackAsync(Ct);
        await write;
    }

    [Fact]
    public async Task A_sink_with_no_connection_open_says_so_and_a_database_that_does_not_answer_is_reported_not_thrown()
    {
        var connectionString = await services.Postgres.CreateDatabaseAsync("backends_none", Ct);
        var log = new CollectingLogger();
        await using (var database = new SinkDatabase(new PostgresSettings { ConnectionString = connectionString }))
        {
            var report = new BackendsReport(database, log);
            report.Start();
            await report.Reading;
        }

        var unreachable = new NpgsqlConnectionStringBuilder(connectionString) { Port = LocalPorts.Free() }.ConnectionString;
        await using (var database = new SinkDatabase(new PostgresSettings { ConnectionString = unreachable }))
        {
            var report = new BackendsReport(database, log);
            report.Start();
            await report.Reading;
        }

        Assert.Contains(log.Lines, l => l.Contains("[1034] Postgres shows no backend of sink but the stall check's own", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Contains("[1035] Cannot read what the Postgres backends of sink are doing: ", StringComparison.Ordinal));
    }

    private static async Task WaitUntilWaitingForLockAsync(string connectionString, int pid)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            await using var command = new NpgsqlCommand("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", connection) { Parameters = { new() { Value = pid } } };
            if (await command.ExecuteScalarAsync(Ct) is "Lock")
            {
                return;
            }

            await Task.Delay(50, Ct);
        }

        Assert.Fail($"backend {pid} never waited for the lock");
    }
}
