using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SinkConnector.Engine;
using SinkConnector.Failures;
using SinkConnector.Schema;
using SinkConnector.Testing;
using SinkConnector.Writing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Database problems retrying cannot fix (the connector schema not migrated, missing privileges, a read-only server):
/// <c>sink run</c> exits 1 within seconds saying what to do, <c>sink validate</c> reports them, and a claim that hangs
/// never keeps SIGTERM from ending the process.
/// </summary>
public class ClaimFailureTests(TestServices services)
{
    private static readonly TimeSpan s_quickExit = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task Run_without_the_connector_schema_exits_1_within_seconds_and_says_run_sink_migrate()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "nomigrate", partitions: 1);
        await bed.ExecuteAsync("DROP SCHEMA sink CASCADE");

        using var sink = bed.StartSink();
        await sink.WaitForExitAsync(s_quickExit);

        Assert.True(sink.ExitCode == 1, sink.Output);
        Assert.Contains($"run `sink migrate --config {bed.ConfigDirectory}`", sink.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", sink.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operator_commands_without_the_connector_schema_exit_1_saying_run_sink_migrate_without_raw_server_text()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "nomigrate_cli", partitions: 1);
        await bed.ExecuteAsync("DROP SCHEMA sink CASCADE");

        foreach (var command in new[] { new[] { "dlq", "list" }, ["status"], ["offsets", "show", "--topic", bed.Topic] })
        {
            var (exit, output) = await SinkProcess.RunToEndAsync([.. command, "--config", bed.ConfigDirectory], bed.Environment);
            Assert.True(exit == 1, output);
            Assert.Contains($"run `sink migrate --config {bed.ConfigDirectory}`", output, StringComparison.Ordinal);
            Assert.DoesNotContain("POSITION", output, StringComparison.Ordinal);
            Assert.DoesNotContain("transient failure", output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Run_against_a_read_only_session_exits_1_and_says_the_server_is_read_only()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "readonly", partitions: 1);
        var readOnly = new NpgsqlConnectionStringBuilder(bed.ConnectionString) { Options = "-c default_transaction_read_only=on" }.ConnectionString;

        using var sink = SinkProcess.Start(["run", "--config", bed.ConfigDirectory], With(bed, readOnly));
        await sink.WaitForExitAsync(s_quickExit);

        Assert.True(sink.ExitCode == 1, sink.Output);
        Assert.Contains("the server is read-only", sink.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", sink.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_as_a_role_without_rights_on_the_connector_schema_exits_1_with_the_GRANT_to_run()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "norights", partitions: 1);
        var role = await CreateRoleAsync(bed, "GRANT INSERT ON public.events TO {0}");

        using var sink = SinkProcess.Start(["run", "--config", bed.ConfigDirectory], With(bed, As(bed, role)));
        await sink.WaitForExitAsync(s_quickExit);

        Assert.True(sink.ExitCode == 1, sink.Output);
        Assert.Contains($"GRANT USAGE ON SCHEMA \"sink\" TO \"{role}\"", sink.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_reports_an_unmigrated_schema_and_missing_privileges_on_connector_and_target_tables()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "valrights", partitions: 1);
        var sinkFile = Path.Combine(bed.ConfigDirectory, "sink.yaml");

        // Privileges on the connector's tables but none on the target table.
        var role = await CreateRoleAsync(bed, "GRANT USAGE ON SCHEMA sink TO {0}; GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA sink TO {0}");
        var (exit, output) = await SinkProcess.RunToEndAsync(["validate", "--config", bed.ConfigDirectory], With(bed, As(bed, role)));
        Assert.True(exit == 2, output);
        Assert.Contains($"{sinkFile}: postgres.schema: role \"{role}\" lacks UPDATE on \"sink\".\"offsets\"", output, StringComparison.Ordinal);
        Assert.Contains($"events.yaml: table: role \"{role}\" lacks INSERT on \"public\".\"events\": GRANT INSERT ON \"public\".\"events\" TO \"{role}\"", output, StringComparison.Ordinal);

        await bed.ExecuteAsync("DROP SCHEMA sink CASCADE");
        (exit, output) = await SinkProcess.RunToEndAsync(["validate", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(exit == 2, output);
        Assert.Contains($"{sinkFile}: postgres.schema: schema \"sink\" does not exist: the connector schema is not migrated; run `sink migrate --config {bed.ConfigDirectory}`",
            output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_claim_that_fails_for_good_in_the_rebalance_callback_stops_the_consumer_with_the_reason()
    {
        // In process, past the startup check of `sink run`: as when the schema goes away while the sink runs.
        await using var bed = await SinkTestBed.CreateAsync(services, "claimfail", partitions: 2);
        await bed.ExecuteAsync("DROP SCHEMA sink CASCADE");
        await using var database = new SinkDatabase(bed.Config().Connector.Postgres);
        var consumer = new ConsumerLoop(bed.Config().Connector, database, new SinkWriter(bed.Config().Mappings, database), NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = Task.Factory.StartNew(() => consumer.RunAsync(stop.Token), TaskCreationOptions.LongRunning).Unwrap();

        var failure = await Assert.ThrowsAsync<SinkStoppedException>(() => run.WaitAsync(s_quickExit, TestContext.Current.CancellationToken));
        Assert.Contains("sink migrate", failure.Message, StringComparison.Ordinal);
        // The consumer left its group before the failure went up: disposing it does not hang.
        await Task.Run(consumer.Dispose, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task SIGTERM_while_a_claim_hangs_in_the_rebalance_callback_ends_the_process_within_shutdown_grace()
    {
        var grace = TimeSpan.FromSeconds(5);
        await using var bed = await SinkTestBed.CreateAsync(services, "hungclaim", partitions: 1);
        var yaml = Path.Combine(bed.ConfigDirectory, "sink.yaml");
        await File.WriteAllTextAsync(yaml, (await File.ReadAllTextAsync(yaml, TestContext.Current.CancellationToken))
            .Replace("shutdown_grace: 20s", $"shutdown_grace: {grace.TotalSeconds}s", StringComparison.Ordinal), TestContext.Current.CancellationToken);

        // The claim waits for this lock for as long as the test holds it: no statement timeout ends the wait.
        await using var blocker = new NpgsqlConnection(bed.ConnectionString);
        await blocker.OpenAsync(TestContext.Current.CancellationToken);
        await using var transaction = await blocker.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE sink.offsets IN ACCESS EXCLUSIVE MODE", blocker, transaction))
        {
            await lockTable.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var patient = new NpgsqlConnectionStringBuilder(bed.ConnectionString) { Options = "-c statement_timeout=0" }.ConnectionString;
        using var sink = SinkProcess.Start(["run", "--config", bed.ConfigDirectory], With(bed, patient));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await ClaimsWaitingAsync(bed) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline && !sink.HasExited, "the claim never waited for the lock:\n" + sink.Output);
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        var stopping = Stopwatch.StartNew();
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(grace + TimeSpan.FromSeconds(10));

        Assert.True(stopping.Elapsed < grace + TimeSpan.FromSeconds(3), $"exited after {stopping.Elapsed}\n{sink.Output}");
        Assert.Contains("Shutdown did not finish within shutdown_grace", sink.Output, StringComparison.Ordinal);
        await transaction.RollbackAsync(TestContext.Current.CancellationToken);
    }

    // The claim (an INSERT ... ON CONFLICT into the offsets), not the periodic claim check (a SELECT), which also waits
    // for the lock and which SIGTERM cancels at once.
    private static Task<long> ClaimsWaitingAsync(SinkTestBed bed) => bed.ScalarAsync(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO%offsets%'");

    private static Dictionary<string, string> With(SinkTestBed bed, string connectionString) =>
        new(bed.Environment) { ["SINK_POSTGRES"] = connectionString };

    private static string As(SinkTestBed bed, string role) =>
        new NpgsqlConnectionStringBuilder(bed.ConnectionString) { Username = role }.ConnectionString;

    /// <summary>A login role of this test's own (roles are per server), given <paramref name="grants"/> ({0}: the role).</summary>
    private static async Task<string> CreateRoleAsync(SinkTestBed bed, string grants)
    {
        var role = "r_" + new NpgsqlConnectionStringBuilder(bed.ConnectionString).Database![..30];
        var quoted = Sql.Quote(role);
        await bed.ExecuteAsync($"CREATE ROLE {quoted} LOGIN; {string.Format(System.Globalization.CultureInfo.InvariantCulture, grants, quoted)}");
        return role;
    }
}
