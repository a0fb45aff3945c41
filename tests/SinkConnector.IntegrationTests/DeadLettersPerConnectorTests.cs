using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using SinkConnector.DeadLetters;
using SinkConnector.Schema;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// A message read again that is already a dead letter (offsets reset, a second connector on the same topic), and
/// dead letters kept per connector (consumer group) when connectors share <c>postgres.schema</c>.
/// </summary>
public class DeadLettersPerConnectorTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Rewind_over_a_dead_lettered_message_keeps_the_sink_running()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "dlq_rewind", partitions: 1);
        await bed.WriteMappingAsync("events.yaml", SinkTestBed.EventsMapping(bed.Topic, onError: "dead_letter"));
        await bed.ProduceAsync(bed.Topic, ThreeGoodOnePoisonThreeGood());
        using var sink = bed.StartSink();
        await bed.WaitForCommittedAsync(7, s_catchUp, () => sink.Output);
        Assert.Equal(6, await bed.RowCountAsync());
        var before = await LettersAsync(bed);
        Assert.Equal([(bed.GroupId, 3L)], before.Select(l => (l.Group, l.Offset)));

        var (exit, output) = await SinkProcess.RunToEndAsync(
            ["offsets", "reset", "--config", bed.ConfigDirectory, "--topic", bed.Topic, "--to-earliest"], bed.Environment);
        Assert.True(exit == 0, output);

        // A rewind of an insert table writes the good messages again; one more message proves the sink runs on after that.
        await bed.ProduceAsync(bed.Topic, [(0, SinkTestBed.Event(6))]);
        await bed.WaitForRowsAsync(13, s_catchUp, () => sink.Output);
        await bed.WaitForCommittedAsync(8, s_catchUp, () => sink.Output);
        Assert.False(sink.HasExited, sink.Output);
        Assert.Equal(13, await bed.RowCountAsync());
        Assert.Equal(6, await bed.ScalarAsync("SELECT count(*) FROM (SELECT src_offset FROM public.events GROUP BY src_offset HAVING count(*) = 2) d"));
        // The message read again keeps its one dead letter: same id, same creation time.
        Assert.Equal(before, await LettersAsync(bed));

        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
        Assert.DoesNotContain("23505", sink.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_dead_lettered_again_keeps_its_dead_letter_with_the_latest_error()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "dlq_again", partitions: 1);
        await using var database = new SinkDatabase(bed.Config().Connector.Postgres);
        var store = new DeadLetterStore(database, bed.GroupId);
        var mapping = bed.Config().Mappings[0];
        var message = new ConsumeResult<byte[]?, byte[]?>
        {
            Topic = bed.Topic,
            Partition = new Partition(0),
            Offset = new Offset(3),
            Message = Poison(3),
        };

        async Task AddInOneTransactionAsync(params DeadLetter[] letters)
        {
            await using var connection = await database.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
            await store.AddAsync(connection, letters, TestContext.Current.CancellationToken);
            await transaction.CommitAsync(TestContext.Current.CancellationToken);
        }

        await AddInOneTransactionAsync(DeadLetterBuilder.From(mapping, message, "MissingField", "first"));
        var first = await LettersAsync(bed);
        // Twice in one batch, then again in a later one: still one dead letter, with the last error.
        await AddInOneTransactionAsync(DeadLetterBuilder.From(mapping, message, "WrongType", "second"), DeadLetterBuilder.From(mapping, message, "WrongType", "third"));
        await AddInOneTransactionAsync(DeadLetterBuilder.From(mapping, message, "OutOfRange", "latest"));

        var letters = await bed.QueryAsync("SELECT id, error_kind, error_message, created_at FROM sink.dead_letters", r => (r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetDateTime(3)));
        Assert.Equal([(first[0].Id, "OutOfRange", "latest", first[0].CreatedAt)], letters);
    }

    [Fact]
    public async Task Two_connectors_sharing_a_schema_and_mapping_name_run_and_keep_their_dead_letters_apart()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "dlq_two", partitions: 1);
        await bed.WriteMappingAsync("events.yaml", SinkTestBed.EventsMapping(bed.Topic, onError: "dead_letter"));
        await bed.ExecuteAsync("CREATE TABLE public.events_b (LIKE public.events INCLUDING DEFAULTS)");
        var other = Directory.CreateTempSubdirectory("sink-it-b-").FullName;
        try
        {
            // Connector B: another name (group) and table, the same schema and mapping file name, the same topic.
            var groupB = bed.GroupId + "-b";
            await File.WriteAllTextAsync(Path.Combine(other, "sink.yaml"),
                SinkYaml.Render(groupB, KafkaTestCluster.ClientProperties, "max_rows: 500\n  max_latency: 50ms", shutdownGrace: "20s"), TestContext.Current.CancellationToken);
            Directory.CreateDirectory(Path.Combine(other, "mappings"));
            await File.WriteAllTextAsync(Path.Combine(other, "mappings", "events.yaml"), MappingB(bed.Topic, fixedBody: false), TestContext.Current.CancellationToken);
            await bed.ProduceAsync(bed.Topic, ThreeGoodOnePoisonThreeGood());

            using (var a = bed.StartSink())
            using (var b = SinkProcess.Start(["run", "--config", other], bed.Environment))
            {
                await bed.WaitForCommittedAsync(7, s_catchUp, () => a.Output);
                await WaitForAsync(async () => await bed.ScalarAsync($"SELECT coalesce(max(next_offset), 0) FROM sink.offsets WHERE group_id = '{groupB}'") == 7, () => b.Output);
                Assert.False(a.HasExited, a.Output);
                Assert.False(b.HasExited, b.Output);
                foreach (var sink in new[] { a, b })
                {
                    sink.Signal(SinkProcess.SIGTERM);
                    await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
                    Assert.True(sink.ExitCode == 0, sink.Output);
                }
            }

            Assert.Equal(6, await bed.RowCountAsync());
            Assert.Equal(6, await bed.ScalarAsync("SELECT count(*) FROM public.events_b"));
            var letters = await LettersAsync(bed);
            Assert.Equal([(bed.GroupId, 3L), (groupB, 3L)], letters.Select(l => (l.Group, l.Offset)).Order());
            var idA = letters.Single(l => l.Group == bed.GroupId).Id;
            var idB = letters.Single(l => l.Group == groupB).Id;

            Task<(int ExitCode, string Output)> B(params string[] args) => SinkProcess.RunToEndAsync([.. args, "--config", other], bed.Environment);
            Task<(int ExitCode, string Output)> A(params string[] args) => SinkProcess.RunToEndAsync([.. args, "--config", bed.ConfigDirectory], bed.Environment);

            var (exit, output) = await B("dlq", "list");
            Assert.True(exit == 0, output);
            Assert.Equal([idB], ListedIds(output));
            Assert.Contains("total: 1 dead letters", output, StringComparison.Ordinal);
            (_, output) = await A("dlq", "list", "--json");
            Assert.Contains($"\"id\": {idA},", output, StringComparison.Ordinal);
            Assert.DoesNotContain($"\"id\": {idB},", output, StringComparison.Ordinal);

            (exit, output) = await B("dlq", "show", idA.ToString(CultureInfo.InvariantCulture));
            Assert.True(exit == 1, output);
            Assert.Contains($"dead letter {idA} not found", output, StringComparison.Ordinal);

            (exit, output) = await B("dlq", "purge", "--ids", idA.ToString(CultureInfo.InvariantCulture), "--yes");
            Assert.True(exit == 0, output);
            Assert.Contains("deleted 0 dead letters", output, StringComparison.Ordinal);

            // B's fixed mapping replays B's dead letter into B's table, and nothing of A's.
            await File.WriteAllTextAsync(Path.Combine(other, "mappings", "events.yaml"), MappingB(bed.Topic, fixedBody: true), TestContext.Current.CancellationToken);
            (exit, output) = await B("dlq", "replay", "--ids", $"{idA},{idB}");
            Assert.True(exit == 0, output);
            Assert.Contains("replayed 1, still failing 0", output, StringComparison.Ordinal);
            Assert.Equal([(3L, "replayed", 3L)], await bed.QueryAsync("SELECT id, body, src_offset FROM public.events_b WHERE body = 'replayed'", r => (r.GetInt64(0), r.GetString(1), r.GetInt64(2))));
            Assert.Equal(6, await bed.RowCountAsync());
            Assert.Equal([idA], (await LettersAsync(bed)).Select(l => l.Id));

            (exit, output) = await B("dlq", "purge", "--yes");
            Assert.True(exit == 0, output);
            Assert.Contains("deleted 0 dead letters", output, StringComparison.Ordinal);
            (exit, output) = await A("dlq", "purge", "--yes");
            Assert.True(exit == 0, output);
            Assert.Contains("deleted 1 dead letters", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    [Fact]
    public async Task Migrating_assigns_existing_dead_letters_to_the_one_group_reading_their_topic_and_leaves_the_rest_to_nobody()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "dlq_upgrade", partitions: 1);
        var old = await services.Postgres.CreateDatabaseAsync("dlq_upgrade_old", TestContext.Current.CancellationToken);
        var environment = new Dictionary<string, string>(bed.Environment) { ["SINK_POSTGRES"] = old };
        var settings = bed.Config().Connector.Postgres with { ConnectionString = old };
        await using (var database = new SinkDatabase(settings))
        await using (var db = database.CreateContext())
        {
            // The schema as the first release created it, with dead letters and offsets in it.
            await db.GetService<IMigrator>().MigrateAsync("20261121120000_InitialSchema", TestContext.Current.CancellationToken);
        }

        await ExecuteAsync(old,
            $"""
            INSERT INTO sink.offsets (group_id, topic, partition, next_offset, epoch, updated_at) VALUES
                ('{bed.GroupId}', '{bed.Topic}', 0, 10, 1, now()), ('g2', 'shared', 0, 5, 1, now()), ('g3', 'shared', 0, 5, 1, now());
            INSERT INTO sink.dead_letters (mapping, topic, partition, "offset", error_kind, error_message) VALUES
                ('events', '{bed.Topic}', 0, 3, 'MissingField', 'mine'), ('events', 'shared', 0, 1, 'MissingField', 'whose?'),
                ('events', 'unread', 0, 1, 'MissingField', 'nobody reads it');
            """);

        var (exit, output) = await SinkProcess.RunToEndAsync(["migrate", "--config", bed.ConfigDirectory], environment);
        Assert.True(exit == 0, output);
        Assert.Contains("DeadLettersPerConnector", output, StringComparison.Ordinal);
        var groups = await TestSql.QueryAsync(old, "SELECT error_message, group_id FROM sink.dead_letters ORDER BY id", r => (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)));
        Assert.Equal([("mine", bed.GroupId), ("whose?", null), ("nobody reads it", null)], groups);

        (exit, output) = await SinkProcess.RunToEndAsync(["dlq", "list", "--config", bed.ConfigDirectory], environment);
        Assert.True(exit == 0, output);
        Assert.Single(ListedIds(output));
        Assert.Contains("total: 1 dead letters", output, StringComparison.Ordinal);
        Assert.Contains("note: 2 older dead letters in this schema belong to no connector", output, StringComparison.Ordinal);

        // The idempotent script runs against the migrated database and changes nothing.
        (exit, var script) = await SinkProcess.RunToEndAsync(["migrate", "--config", bed.ConfigDirectory, "--script"], environment);
        Assert.True(exit == 0, script);
        await ExecuteAsync(old, script);
        Assert.Equal(3, await ScalarAsync(old, "SELECT count(*) FROM sink.dead_letters"));
        Assert.Equal(1, await ScalarAsync(old,
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'sink' AND indexname = 'ix_dead_letters_group_id_topic_partition_offset_mapping'"));
    }

    /// <summary>Offsets 0-2 and 4-6 are good events (ids 0-5); offset 3 lacks its body.</summary>
    private static IEnumerable<(int, Message<byte[]?, byte[]?>)> ThreeGoodOnePoisonThreeGood() =>
        Enumerable.Range(0, 3).Select(i => SinkTestBed.Event(i)).Append(Poison(3)).Concat(Enumerable.Range(3, 3).Select(i => SinkTestBed.Event(i)))
            .Select(m => (0, m));

    private static Message<byte[]?, byte[]?> Poison(long id) => new()
    {
        Key = Encoding.UTF8.GetBytes($"k{id}"),
        Value = Encoding.UTF8.GetBytes($$"""{"id":{{id}}}"""),
    };

    /// <summary>Connector B's mapping: the bed's, into <c>public.events_b</c>; fixed, a missing body is written as 'replayed'.</summary>
    private static string MappingB(string topic, bool fixedBody) =>
        SinkTestBed.EventsMapping(topic, onError: "dead_letter")
            .Replace("table: public.events", "table: public.events_b", StringComparison.Ordinal)
            .Replace("{ from: value.body, type: text }", fixedBody ? "{ from: value.body, type: text, default: replayed }" : "{ from: value.body, type: text }", StringComparison.Ordinal);

    private static Task<List<(long Id, string? Group, long Offset, DateTime CreatedAt)>> LettersAsync(SinkTestBed bed) =>
        bed.QueryAsync(
            "SELECT id, group_id, \"offset\", created_at FROM sink.dead_letters ORDER BY id",
            r => (r.GetInt64(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetInt64(2), r.GetDateTime(3)));

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql) =>
        (await TestSql.QueryAsync(connectionString, sql, r => r.GetInt64(0))).Single();

    private static async Task WaitForAsync(Func<Task<bool>> condition, Func<string> diagnostics)
    {
        var deadline = DateTime.UtcNow + s_catchUp;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, diagnostics());
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The ids of the rows of a <c>sink dlq list</c> table.</summary>
    private static long[] ListedIds(string output) =>
        [.. output.Split('\n').Select(l => l.Trim().Split(' ')[0]).Where(t => t.Length > 0 && t.All(char.IsAsciiDigit)).Select(t => long.Parse(t, CultureInfo.InvariantCulture))];
}
