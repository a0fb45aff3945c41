using System.Globalization;
using System.Text;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Testing;
using SinkConnector.Writing;

namespace SinkConnector.IntegrationTests;

/// <summary>Declaratively partitioned target tables through the real <c>sink</c> process: COPY, upsert, auto_create's partitions, rows outside them.</summary>
public class PartitionedTableTests(TestServices services)
{
    private static Message<byte[]?, byte[]?> Json(string value, string? key = null) => new()
    {
        Key = key is null ? null : Encoding.UTF8.GetBytes(key),
        Value = Encoding.UTF8.GetBytes(value),
    };

    private static string Iso(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Insert_into_an_auto_created_daily_partitioned_table_fills_the_partitions_ahead_and_dead_letters_rows_outside_them()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "part_insert", partitions: 1);
        var mapping = $"""
            topic: {bed.Topic}
            table: public.readings
            auto_create: true
            auto_evolve: true
            partition: {"{"} by: created_at, interval: 1 day, ahead: 2 {"}"}
            columns:
              id:          {"{"} from: value.id, type: bigint {"}"}
              created_at:  {"{"} from: value.created_at, type: timestamptz {"}"}
              source:      {"{"} from: "'sensor'", type: text {"}"}
              ingested_at: {"{"} from: now(), type: timestamptz {"}"}
            """;
        await bed.WriteMappingAsync("events.yaml", mapping);
        // Noon tomorrow and the day after: inside the window (today and two days ahead) even if the day turns meanwhile.
        var tomorrow = PartitionWindow.Floor(DateTime.UtcNow, PartitionInterval.Day).AddDays(1);
        var old = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        await bed.ProduceAsync(bed.Topic, new[]
        {
            Json($$"""{"id": 1, "created_at": "{{Iso(tomorrow.AddHours(12))}}"}"""),
            Json($$"""{"id": 2, "created_at": "{{Iso(old)}}"}"""),
            Json($$"""{"id": 3, "created_at": "{{Iso(tomorrow.AddDays(1).AddHours(12))}}"}"""),
            Json($$"""{"id": 4, "created_at": "{{Iso(tomorrow.AddDays(40))}}"}"""),
        }.Select(m => (0, m)));

        await bed.RunToCompletionAsync(4);

        string PartitionOf(DateTime day) => PartitionWindow.Name(new TableName("public", "readings"), day, PartitionInterval.Day);
        Assert.Equal(
            [(1L, PartitionOf(tomorrow), "sensor"), (3L, PartitionOf(tomorrow.AddDays(1)), "sensor")],
            await bed.QueryAsync("SELECT id, tableoid::regclass::text, source FROM public.readings ORDER BY id", r => (r.GetInt64(0), r.GetString(1), r.GetString(2))));
        var partitions = await bed.QueryAsync("SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'public.readings'::regclass", r => r.GetString(0));
        Assert.Equal(3, partitions.Count);
        Assert.Contains(PartitionOf(tomorrow.AddDays(1)), partitions);
        Assert.Equal(["RANGE (created_at)"], await bed.QueryAsync("SELECT pg_get_partkeydef('public.readings'::regclass)", r => r.GetString(0)));
        // Rows before the first partition and past the window are dead letters naming the value and the table.
        var letters = await bed.QueryAsync(
            $"SELECT \"offset\", error_kind, error_message FROM sink.dead_letters WHERE topic = '{bed.Topic}' ORDER BY \"offset\"",
            r => (Offset: r.GetInt64(0), Kind: r.GetString(1), Reason: r.GetString(2)));
        Assert.Equal([(1L, "Rejected"), (3L, "Rejected")], letters.Select(l => (l.Offset, l.Kind)));
        Assert.StartsWith(
            "no partition of public.readings accepts the row: created_at = 2020-01-01T00:00:00Z (SQLSTATE 23514: no partition of relation \"readings\" found for row). " +
            "Create a partition (or a DEFAULT partition) for it, then replay the dead letter", letters[0].Reason, StringComparison.Ordinal);
        Assert.StartsWith($"no partition of public.readings accepts the row: created_at = {Iso(tomorrow.AddDays(40))} (", letters[1].Reason, StringComparison.Ordinal);

        // The remedy the reason names: a partition for the old row, then a replay (its now() is the replay's transaction time).
        await bed.ExecuteAsync("CREATE TABLE public.readings_old PARTITION OF public.readings FOR VALUES FROM ('2020-01-01') TO ('2020-01-02')");
        var (replayExit, replayOutput) = await SinkProcess.RunToEndAsync(["dlq", "replay", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(replayExit == 0, replayOutput);
        Assert.Contains("replayed 1, still failing 1", replayOutput, StringComparison.Ordinal);
        Assert.Contains("no partition of public.readings accepts the row", replayOutput, StringComparison.Ordinal);
        Assert.Equal([("readings_old", "sensor", true)], await bed.QueryAsync(
            "SELECT tableoid::regclass::text, source, ingested_at > now() - interval '10 minutes' FROM public.readings WHERE id = 2", r => (r.GetString(0), r.GetString(1), r.GetBoolean(2))));

        // auto_evolve adds a column to the partitioned parent (and so to every partition).
        await bed.WriteMappingAsync("events.yaml", mapping + "\n  note: { from: value.note, type: text, nullable: true }");
        await bed.ProduceAsync(bed.Topic, [(0, Json($$"""{"id": 5, "created_at": "{{Iso(tomorrow.AddHours(1))}}", "note": "added"}"""))]);
        await bed.RunToCompletionAsync(5);
        Assert.Equal([(5L, "added")], await bed.QueryAsync("SELECT id, note FROM public.readings WHERE note IS NOT NULL", r => (r.GetInt64(0), r.GetString(1))));
        Assert.Equal(5L, await bed.ScalarAsync("SELECT count(*) FROM public.readings") + await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
    }

    [Fact]
    public async Task Two_sinks_starting_together_on_one_partitioned_table_create_the_parent_and_each_partition_once_without_an_error()
    {
        const int messages = 20;
        await using var bed = await SinkTestBed.CreateAsync(services, "part_race", partitions: 2);
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.readings
            auto_create: true
            partition: { by: created_at, interval: 1 day, ahead: 3 }
            columns:
              id:         { from: value.id, type: bigint }
              created_at: { from: value.created_at, type: timestamptz }
            """);
        var started = DateTime.UtcNow;
        var tomorrow = PartitionWindow.Floor(started, PartitionInterval.Day).AddDays(1);
        await bed.ProduceAsync(bed.Topic, Enumerable.Range(0, messages).Select(i => (i % 2, Json($$"""{"id": {{i}}, "created_at": "{{Iso(tomorrow.AddHours(12))}}"}"""))));

        // Two replicas of one group: both run auto_create and the partition upkeep of their first batch at once.
        using var first = bed.StartSink();
        using var second = bed.StartSink();
        await bed.WaitForCommittedAsync(messages, TimeSpan.FromMinutes(2), () => first.Output + second.Output);
        await Task.WhenAll(first.WaitForOutputAsync("Claimed", TimeSpan.FromMinutes(1)), second.WaitForOutputAsync("Claimed", TimeSpan.FromMinutes(1)));
        foreach (var sink in new[] { first, second })
        {
            sink.Signal(SinkProcess.SIGTERM);
        }

        foreach (var sink in new[] { first, second })
        {
            await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.True(sink.ExitCode == 0, sink.Output);
            Assert.DoesNotContain("fail:", sink.Output, StringComparison.Ordinal);
        }

        // Queued on the advisory lock, the second planned after the first committed: no statement ran in both.
        static List<string> Ddl(SinkProcess sink) => [.. sink.Output.Split('\n').Select(l => l.Split("(auto_create/auto_evolve): ").ElementAtOrDefault(1)).OfType<string>()];
        Assert.NotEmpty(Ddl(first).Concat(Ddl(second)));
        Assert.Empty(Ddl(first).Intersect(Ddl(second)));
        // The window of the day each sink looked: both saw the same day unless midnight UTC passed during the run.
        var partitions = await bed.QueryAsync("SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'public.readings'::regclass ORDER BY c.relname COLLATE \"C\"", r => r.GetString(0));
        Assert.Contains(string.Join(", ", partitions), PartitionWindowsSeen.Between(new TableName("public", "readings"), PartitionInterval.Day, 3, started, DateTime.UtcNow));
        Assert.Equal(messages, await bed.ScalarAsync("SELECT count(DISTINCT id) FROM public.readings"));
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
    }

    [Fact]
    public void Across_midnight_the_race_test_accepts_the_next_days_window_or_both_windows_and_nothing_else()
    {
        var table = new TableName("public", "readings");
        var day = new DateTime(2026, 12, 3, 0, 0, 0, DateTimeKind.Utc);
        string Days(params int[] offsets) => string.Join(", ", offsets.Select(d => PartitionWindow.Name(table, day.AddDays(d), PartitionInterval.Day)));
        var beforeMidnight = day.AddHours(23).AddMinutes(59).AddSeconds(50);

        Assert.Equal([Days(0, 1, 2, 3)], PartitionWindowsSeen.Between(table, PartitionInterval.Day, 3, day.AddHours(12), day.AddHours(12).AddMinutes(1)));
        // Each sink may have looked before or after midnight: today's window, tomorrow's, or the union of both.
        Assert.Equal(
            [Days(0, 1, 2, 3), Days(0, 1, 2, 3, 4), Days(1, 2, 3, 4)],
            PartitionWindowsSeen.Between(table, PartitionInterval.Day, 3, beforeMidnight, beforeMidnight.AddSeconds(20)));
    }

    [Fact]
    public async Task Upsert_into_a_partitioned_table_needs_the_partition_key_in_its_key_then_merges_and_dead_letters_rows_outside_the_partitions()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "part_upsert", partitions: 1);
        await bed.ExecuteAsync("""
            CREATE TABLE public.accounts (id bigint NOT NULL, day date NOT NULL, balance numeric(12,2) NOT NULL, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
            CREATE TABLE public.accounts_2026 PARTITION OF public.accounts FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            CREATE TABLE public.accounts_2027 PARTITION OF public.accounts FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
            """);
        string Mapping(string key) => $$"""
            topic: {{bed.Topic}}
            table: public.accounts
            mode: upsert
            key: [{{key}}]
            columns:
              id:      { from: value.id, type: bigint }
              day:     { from: value.day, type: date }
              balance: { from: value.balance, type: "numeric(12,2)" }
            """;
        await bed.WriteMappingAsync("events.yaml", Mapping("id"));
        var file = Path.Combine(bed.ConfigDirectory, "mappings", "events.yaml");

        foreach (var command in new[] { "validate", "run" })
        {
            var (exit, output) = await SinkProcess.RunToEndAsync([command, "--config", bed.ConfigDirectory], bed.Environment);
            Assert.True(exit == 2, output);
            Assert.Contains($"{file}: key: public.accounts is partitioned by RANGE (day): the upsert key (id) must include the partition column(s) day.", output, StringComparison.Ordinal);
            Assert.DoesNotContain("no primary key or unique index", output, StringComparison.Ordinal);
        }

        await bed.WriteMappingAsync("events.yaml", Mapping("id, day"));
        var (ok, okOutput) = await SinkProcess.RunToEndAsync(["validate", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(ok == 0, okOutput);

        await bed.ProduceAsync(bed.Topic, new[]
        {
            Json("""{"id": 1, "day": "2026-05-01", "balance": "10.00"}"""),
            Json("""{"id": 2, "day": "2027-02-01", "balance": "20.00"}"""),
            Json("""{"id": 3, "day": "2030-01-01", "balance": "5.00"}"""),
            Json("""{"id": 1, "day": "2026-05-01", "balance": "11.50"}"""),
        }.Select(m => (0, m)));
        await bed.RunToCompletionAsync(4);

        Assert.Equal(
            [(1L, "2026-05-01", 11.50m, "accounts_2026"), (2L, "2027-02-01", 20.00m, "accounts_2027")],
            await bed.QueryAsync("SELECT id, day::text, balance, tableoid::regclass::text FROM public.accounts ORDER BY id", r => (r.GetInt64(0), r.GetString(1), r.GetDecimal(2), r.GetString(3))));
        var (offset, reason) = Assert.Single(await bed.QueryAsync(
            $"SELECT \"offset\", error_message FROM sink.dead_letters WHERE topic = '{bed.Topic}'", r => (r.GetInt64(0), r.GetString(1))));
        Assert.Equal(2, offset);
        // The tests' connection string has Include Error Detail: the server's own account of the key names the value.
        Assert.StartsWith("no partition of public.accounts accepts the row: Partition key of the failing row contains (day) = (2030-01-01).", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Computed_columns_write_constants_concatenated_keys_and_the_batch_transaction_time()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "computed", partitions: 1);
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.visits
            auto_create: true
            mode: upsert
            key: [id]
            columns:
              id:      { from: "concat(key.region, '-', key.id)", type: text }
              channel: { from: "'web'", type: text }
              page:    { from: value.page, type: text }
              seen_at: { from: now(), type: timestamptz }
            """);
        await bed.ProduceAsync(bed.Topic, new[]
        {
            Json("""{"page": "a"}""", """{"region": "eu", "id": 1}"""),
            Json("""{"page": "b"}""", """{"region": "us", "id": 1}"""),
            Json("""{"page": "x"}""", """{"id": 2}"""),
            Json("""{"page": "c"}""", """{"region": "eu", "id": 1}"""),
        }.Select(m => (0, m)));

        await bed.RunToCompletionAsync(4);

        Assert.Equal(
            [("eu-1", "web", "c"), ("us-1", "web", "b")],
            await bed.QueryAsync("SELECT id, channel, page FROM public.visits ORDER BY id", r => (r.GetString(0), r.GetString(1), r.GetString(2))));
        Assert.Equal(("MissingField", 2L), Assert.Single(await bed.QueryAsync(
            $"SELECT error_kind, \"offset\" FROM sink.dead_letters WHERE topic = '{bed.Topic}'", r => (r.GetString(0), r.GetInt64(1)))));
        // now() is the batch transaction's time: one value per transaction, the one its offsets update also wrote.
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM (SELECT xmin::text FROM public.visits GROUP BY 1 HAVING count(DISTINCT seen_at) > 1) t"));
        Assert.Equal(1, await bed.ScalarAsync(
            $"SELECT count(*) FROM public.visits WHERE id = 'eu-1' AND seen_at = (SELECT updated_at FROM sink.offsets WHERE topic = '{bed.Topic}')"));
    }
}
