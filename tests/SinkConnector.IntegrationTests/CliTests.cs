using Npgsql;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>The <c>sink</c> commands as an operator runs them: exit codes and messages.</summary>
public class CliTests(TestServices services)
{
    [Fact]
    public async Task Validate_names_file_and_key_of_each_table_problem_and_exits_2()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "validate", partitions: 1);
        var (ok, okOutput) = await SinkProcess.RunToEndAsync(["validate", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(ok == 0, okOutput);

        await using (var connection = new NpgsqlConnection(bed.ConnectionString))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var alter = new NpgsqlCommand(
                "ALTER TABLE public.events ALTER COLUMN id TYPE integer, DROP COLUMN body, ADD COLUMN required_extra text NOT NULL", connection);
            await alter.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var (exit, output) = await SinkProcess.RunToEndAsync(["validate", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.Equal(2, exit);
        var file = Path.Combine(bed.ConfigDirectory, "mappings", "events.yaml");
        Assert.Contains($"{file}: columns.id.type: mapping type bigint cannot be written into public.events.id of type integer", output, StringComparison.Ordinal);
        Assert.Contains($"{file}: columns.body: column does not exist in public.events", output, StringComparison.Ordinal);
        Assert.Contains("required_extra is NOT NULL without a default but is not mapped", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_config_exits_2_naming_file_key_and_reason()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "badconfig", partitions: 1);
        var mapping = Path.Combine(bed.ConfigDirectory, "mappings", "events.yaml");
        var yaml = await File.ReadAllTextAsync(mapping, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(mapping, yaml.Replace("type: bigint", "type: bigserial", StringComparison.Ordinal), TestContext.Current.CancellationToken);

        foreach (var command in new[] { "validate", "run", "migrate" })
        {
            var (exit, output) = await SinkProcess.RunToEndAsync([command, "--config", bed.ConfigDirectory], bed.Environment);
            Assert.True(exit == 2, output);
            Assert.Contains($"{mapping}: columns.id.type: unknown type 'bigserial'", output, StringComparison.Ordinal);
        }

        var (usage, usageOutput) = await SinkProcess.RunToEndAsync(["offsets", "reset", "--config", bed.ConfigDirectory, "--topic", bed.Topic]);
        Assert.True(usage == 2, usageOutput);
    }

    [Fact]
    public async Task Migrate_runs_concurrently_from_several_replicas_and_the_script_is_idempotent()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "migrate", partitions: 1);
        var fresh = await services.Postgres.CreateDatabaseAsync("migrate_fresh", TestContext.Current.CancellationToken);
        var environment = new Dictionary<string, string>(bed.Environment) { ["SINK_POSTGRES"] = fresh };

        var replicas = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            SinkProcess.RunToEndAsync(["migrate", "--config", bed.ConfigDirectory], environment)));
        Assert.All(replicas, r => Assert.True(r.ExitCode == 0, r.Output));
        Assert.Single(replicas, r => r.Output.Contains("Applied 20261121120000_InitialSchema", StringComparison.Ordinal));

        var (exit, script) = await SinkProcess.RunToEndAsync(["migrate", "--config", bed.ConfigDirectory, "--script"], environment);
        Assert.True(exit == 0, script);
        Assert.Contains("CREATE TABLE sink.offsets", script, StringComparison.Ordinal);
        await using var conn = new NpgsqlConnection(fresh);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        // Idempotent: running it against the migrated database changes nothing and fails nothing.
        await using var run = new NpgsqlCommand(script, conn);
        await run.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Migrate_script_needs_no_connection_settings_from_the_environment()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "script_env", partitions: 1);

        // Only PATH: neither SINK_POSTGRES nor KAFKA_BOOTSTRAP, which sink.yaml refers to; the script needs neither.
        using var sink = SinkProcess.Start(["migrate", "--config", bed.ConfigDirectory, "--script"],
            new Dictionary<string, string> { ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "" }, inheritEnvironment: false);
        await sink.WaitForExitAsync(TimeSpan.FromMinutes(1));
        Assert.True(sink.ExitCode == 0, sink.Output);
        Assert.Contains("CREATE TABLE sink.offsets", sink.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("SINK_POSTGRES", sink.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_command_gets_one_clear_error_with_the_commands_and_exit_2()
    {
        var (exit, output) = await SinkProcess.RunToEndAsync(["frobnicate"]);
        Assert.True(exit == 2, output);
        Assert.Contains("sink: unknown command 'frobnicate'", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command was not provided", output, StringComparison.Ordinal);
        Assert.Contains("  sink migrate ", output, StringComparison.Ordinal);
        Assert.Contains("Run 'sink --help' for usage.", output, StringComparison.Ordinal);

        (exit, output) = await SinkProcess.RunToEndAsync(["offsets", "rewind"]);
        Assert.True(exit == 2, output);
        Assert.Contains("sink offsets: unknown command 'rewind'", output, StringComparison.Ordinal);
        Assert.Contains("  sink offsets reset ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command was not provided", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offsets_of_a_topic_no_mapping_reads_exit_2_listing_the_mapped_topics()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "unmapped", partitions: 1);
        foreach (var command in new[] { "show", "reset" })
        {
            string[] args = ["offsets", command, "--config", bed.ConfigDirectory, "--topic", "no-such-topic", .. command == "reset" ? new[] { "--to-earliest" } : []];
            var (exit, output) = await SinkProcess.RunToEndAsync(args, bed.Environment);
            Assert.True(exit == 2, output);
            Assert.Contains($"topic 'no-such-topic' is not mapped by any file in {Path.Combine(bed.ConfigDirectory, "mappings")}; mapped topics: {bed.Topic}", output, StringComparison.Ordinal);
            Assert.DoesNotContain("partition", output, StringComparison.Ordinal);
        }
    }
}
