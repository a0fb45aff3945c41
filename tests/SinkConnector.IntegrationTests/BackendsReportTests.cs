using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SinkConnector.Configuration;
using SinkConnector.Engine;
using SinkConnector.EntityFrameworkCore;
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

    [Fact]
    public async Task In_library_mode_a_batch_on_the_apps_own_unnamed_connection_waiting_for_a_lock_is_reported_as_the_sinks()
    {
        const long lockKey = 1033;
        var held = new TaskCompletionSource<(NpgsqlConnection Holder, string ConnectionString)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = LibraryRun.RunAsync<NotesContext>(services, "backends_library", Notes.Json(1, 1), (builder, connectionString, topic) =>
        {
            // Taken before the host starts, so the batch's handler waits for it.
            var holder = new NpgsqlConnection(connectionString);
            holder.Open();
            using (var take = new NpgsqlCommand("SELECT pg_advisory_lock($1)", holder) { Parameters = { new() { Value = lockKey } } })
            {
                take.ExecuteNonQuery();
            }

            // The app's connection string names no application: its backends have an empty application_name.
            var appConnection = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = null }.ConnectionString;
            held.SetResult((holder, appConnection));
            builder.Services.AddDbContextFactory<NotesContext>(o => o.UseNpgsql(appConnection));
            builder.Services.AddSingleton(new LockWaitingHandler(lockKey));
            builder.Services.AddKafkaSink<NotesContext>(builder.Configuration.GetSection("KafkaSink")).AddHandler<Note, LockWaitingHandler>(topic);
        }, ("KafkaSink:HandlerTimeout", "00:02:00"));
        if (await Task.WhenAny(held.Task, run) == run)
        {
            await run;
            Assert.Fail("the run ended before it was configured");
        }

        var (holder, appConnection) = await held.Task;
        var holderPid = holder.ProcessID;
        var waiter = await WaitForAdvisoryLockWaiterAsync(holder);

        // The report as library mode's consumer loop makes it: for the SinkDatabase of the app's connection string
        // (KafkaSinkService, no KafkaSink:ConnectionString), whose backends are named "sink".
        var log = new CollectingLogger();
        await using (var database = new SinkDatabase(new PostgresSettings { ConnectionString = appConnection }))
        {
            var report = new BackendsReport(database, log);
            report.Start();
            await report.Reading;
        }

        await holder.DisposeAsync();
        var finished = await run;
        Assert.Equal(0, finished.ExitCode);
        Assert.Equal(1, await finished.CommittedAsync());
        var waiting = Assert.Single(log.Lines, l => l.Contains("[1033]", StringComparison.Ordinal) && l.Contains($"pid {waiter},", StringComparison.Ordinal));
        Assert.Contains("Postgres backend of sink: ", waiting, StringComparison.Ordinal);
        Assert.Contains("waiting for Lock/advisory", waiting, StringComparison.Ordinal);
        Assert.Contains($"blocked by pid(s) {holderPid};", waiting, StringComparison.Ordinal);
        Assert.Contains("query: SELECT pg_advisory_xact_lock", waiting, StringComparison.Ordinal);
        // Named for its transaction only: afterwards the app's connection has its own (empty) name again.
        Assert.Equal(0, await finished.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = {waiter} AND application_name <> ''"));
    }

    /// <summary>The pid of the backend waiting for an advisory lock in the holder's database.</summary>
    private static async Task<int> WaitForAdvisoryLockWaiterAsync(NpgsqlConnection holder)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            await using var command = new NpgsqlCommand(
                "SELECT pid FROM pg_stat_activity WHERE wait_event = 'advisory' AND datname = current_database()", holder);
            if (await command.ExecuteScalarAsync(Ct) is int pid)
            {
                return pid;
            }

            await Task.Delay(100, Ct);
        }

        Assert.Fail("no batch ever waited for the advisory lock");
        return 0;
    }

    private sealed class LockWaitingHandler(long lockKey) : IMessageHandler<Note, NotesContext>
    {
        public async Task HandleAsync(Note message, MessageContext context, NotesContext db, CancellationToken cancellationToken)
        {
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock({0})", [lockKey], cancellationToken);
            db.Add(message);
        }
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
