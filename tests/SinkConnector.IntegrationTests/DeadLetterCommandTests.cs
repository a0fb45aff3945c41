using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Npgsql;
using SinkConnector.Cli.Commands;
using SinkConnector.DeadLetters;
using SinkConnector.Observability;
using SinkConnector.Operations;
using SinkConnector.Schema;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary><c>sink dlq list|show|replay|purge</c> as an operator runs them, against dead letters the sink wrote.</summary>
public class DeadLetterCommandTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Replay_after_fixing_a_mapping_moves_dead_letters_into_the_table_exactly_once()
    {
        const int good = 300, bad = 30;
        await using var bed = await BedWithDeadLettersAsync("dlq_replay", partitions: 3, good, bad);
        var letters = await bed.QueryAsync(
            "SELECT (convert_from(value, 'UTF8')::jsonb->>'id')::bigint, partition, \"offset\", error_kind, mapping FROM sink.dead_letters ORDER BY 1",
            r => (Id: r.GetInt64(0), Partition: r.GetInt32(1), Offset: r.GetInt64(2), Kind: r.GetString(3), Mapping: r.GetString(4)));
        Assert.Equal(Enumerable.Range(good, bad).Select(i => (long)i), letters.Select(l => l.Id));
        Assert.All(letters, l => Assert.Equal(("MissingField", "events"), (l.Kind, l.Mapping)));

        // Unfixed, a replay writes nothing and keeps every dead letter.
        var (exit, output) = await SinkAsync(bed, "dlq", "replay");
        Assert.True(exit == 0, output);
        Assert.Contains($"replayed 0, still failing {bad} (ids ", output, StringComparison.Ordinal);
        Assert.Equal(good, await bed.RowCountAsync());
        Assert.Equal(bad, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters WHERE error_kind = 'MissingField'"));

        await bed.WriteMappingAsync("events.yaml", Mapping(bed.Topic, amountNullable: true));
        (exit, output) = await SinkAsync(bed, "dlq", "replay");
        Assert.True(exit == 0, output);
        Assert.Contains($"replayed {bad}, still failing 0", output, StringComparison.Ordinal);
        await AssertEveryIdOnceAsync(bed, good + bad);
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
        // Each replayed row came from its own message: same partition and offset, and the amount it lacked is NULL.
        var replayed = await bed.QueryAsync(
            $"SELECT id, src_partition, src_offset FROM public.events WHERE id >= {good} AND amount IS NULL ORDER BY id",
            r => (Id: r.GetInt64(0), Partition: r.GetInt32(1), Offset: r.GetInt64(2)));
        Assert.Equal(letters.Select(l => (l.Id, l.Partition, l.Offset)), replayed);

        // Again: nothing left to do, nothing written twice, and the sink's offsets were never touched.
        (exit, output) = await SinkAsync(bed, "dlq", "replay");
        Assert.True(exit == 0, output);
        Assert.Contains("replayed 0, still failing 0", output, StringComparison.Ordinal);
        await AssertEveryIdOnceAsync(bed, good + bad);
        Assert.Equal(good + bad, await bed.CommittedAsync());
    }

    [Fact]
    public async Task Replay_keeps_a_row_Postgres_still_rejects_as_Rejected_with_the_new_error()
    {
        const int good = 30, bad = 10;
        await using var bed = await BedWithDeadLettersAsync("dlq_rejected", partitions: 2, good, bad);
        await bed.WriteMappingAsync("events.yaml", Mapping(bed.Topic, amountNullable: true));
        await bed.ExecuteAsync("ALTER TABLE public.events ADD CONSTRAINT odd_needs_amount CHECK (amount IS NOT NULL OR id % 2 = 0)");
        var oddIds = await bed.QueryAsync(
            "SELECT id FROM sink.dead_letters WHERE (convert_from(value, 'UTF8')::jsonb->>'id')::bigint % 2 = 1 ORDER BY id", r => r.GetInt64(0));

        var (exit, output) = await SinkAsync(bed, "dlq", "replay");
        Assert.True(exit == 0, output);
        Assert.Contains($"replayed {bad / 2}, still failing {bad / 2} (ids {string.Join(", ", oddIds)})", output, StringComparison.Ordinal);
        Assert.Equal(good + (bad / 2), await bed.RowCountAsync());
        var kept = await bed.QueryAsync("SELECT id, error_kind, error_message FROM sink.dead_letters ORDER BY id", r => (r.GetInt64(0), r.GetString(1), r.GetString(2)));
        Assert.Equal(oddIds, kept.Select(k => k.Item1));
        Assert.All(kept, k =>
        {
            Assert.Equal("Rejected", k.Item2);
            Assert.Contains("SQLSTATE 23514", k.Item3, StringComparison.Ordinal);
            Assert.Contains("odd_needs_amount", k.Item3, StringComparison.Ordinal);
        });

        await bed.ExecuteAsync("ALTER TABLE public.events DROP CONSTRAINT odd_needs_amount");
        (exit, output) = await SinkAsync(bed, "dlq", "replay", "--kind", "rejected");
        Assert.True(exit == 0, output);
        Assert.Contains($"replayed {bad / 2}, still failing 0", output, StringComparison.Ordinal);
        await AssertEveryIdOnceAsync(bed, good + bad);
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
    }

    [Fact]
    public async Task Concurrent_replays_write_each_message_once()
    {
        const int good = 100, bad = 50;
        await using var bed = await BedWithDeadLettersAsync("dlq_concurrent", partitions: 2, good, bad);
        await bed.WriteMappingAsync("events.yaml", Mapping(bed.Topic, amountNullable: true));

        // Holding the first dead letter (in the replay's lock order) makes both replays wait inside their transactions,
        // so they certainly overlap: without row locks both would have read every dead letter and written it.
        await using var holder = new NpgsqlConnection(bed.ConnectionString);
        await holder.OpenAsync(TestContext.Current.CancellationToken);
        var hold = await holder.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var first = new NpgsqlCommand("SELECT id FROM sink.dead_letters ORDER BY topic, partition, \"offset\", mapping LIMIT 1 FOR UPDATE", holder, hold))
        {
            await first.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        }

        using var a = SinkProcess.Start(["dlq", "replay", "--config", bed.ConfigDirectory], bed.Environment);
        using var b = SinkProcess.Start(["dlq", "replay", "--config", bed.ConfigDirectory], bed.Environment);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(50);
        while (await bed.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") < 2)
        {
            Assert.True(DateTime.UtcNow < deadline && !a.HasExited && !b.HasExited, $"both replays should be waiting for the lock.\n{a.Output}\n{b.Output}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        await hold.CommitAsync(TestContext.Current.CancellationToken);
        await a.WaitForExitAsync(TimeSpan.FromMinutes(1));
        await b.WaitForExitAsync(TimeSpan.FromMinutes(1));
        Assert.True(a.ExitCode == 0 && b.ExitCode == 0, $"{a.Output}\n{b.Output}");
        var counts = new[] { a.Output, b.Output }.Select(o => int.Parse(Regex.Match(o, "replayed ([0-9]+)").Groups[1].Value, CultureInfo.InvariantCulture)).Order().ToArray();
        Assert.Equal([0, bad], counts);
        await AssertEveryIdOnceAsync(bed, good + bad);
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
    }

    [Fact]
    public async Task Replay_keeps_dead_letters_of_a_removed_mapping_and_drops_those_the_mapping_now_skips()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "dlq_unmapped", partitions: 1);
        var ids = await InsertAsync(bed,
        [
            Letter(bed, "retired", 1, value: SinkTestBed.Event(1).Value),
            Letter(bed, "events", 2, tombstone: true), // mode insert skips tombstones
            Letter(bed, "events", 3, value: SinkTestBed.Event(3).Value),
        ]);

        var (exit, output) = await SinkAsync(bed, "dlq", "replay");
        Assert.True(exit == 0, output);
        Assert.Contains("replayed 2 (1 of them now skipped by their mapping), still failing 0", output, StringComparison.Ordinal);
        Assert.Contains($"kept 1 of mapping 'retired', which is not in the configuration (ids {ids[0]})", output, StringComparison.Ordinal);
        Assert.Equal([ids[0]], await bed.QueryAsync("SELECT id FROM sink.dead_letters", r => r.GetInt64(0)));
        Assert.Equal([(3L, 3L)], await bed.QueryAsync("SELECT id, src_offset FROM public.events", r => (r.GetInt64(0), r.GetInt64(1))));
    }

    [Fact]
    public async Task List_filters_by_mapping_topic_and_kind_fits_the_width_and_prints_full_json()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "dlq_list", partitions: 1);
        var longMessage = "first line\nsecond line " + new string('x', 300);
        var ids = await InsertAsync(bed,
        [
            Letter(bed, "events", 1, kind: "MissingField"),
            Letter(bed, "events", 2, kind: "WrongType"),
            Letter(bed, "events", 3, kind: "MissingField", topic: "other-topic"),
            Letter(bed, "orders", 4, kind: "Rejected", message: longMessage),
            Letter(bed, "events", 5, kind: "InvalidJson", value: [0xff, 0xfe, 0x00]),
        ]);

        var (exit, output) = await SinkAsync(bed, "dlq", "list");
        Assert.True(exit == 0, output);
        Assert.Equal(ids, ListedIds(output));
        Assert.Contains("total: 5 dead letters", output, StringComparison.Ordinal);

        (_, output) = await SinkAsync(bed, "dlq", "list", "--mapping", "events", "--kind", "missingfield");
        Assert.Equal([ids[0], ids[2]], ListedIds(output));
        (_, output) = await SinkAsync(bed, "dlq", "list", "--topic", bed.Topic, "--kind", "MissingField");
        Assert.Equal([ids[0]], ListedIds(output));
        (_, output) = await SinkAsync(bed, "dlq", "list", "--limit", "2");
        Assert.Equal(ids[..2], ListedIds(output));
        Assert.Contains("total: 5 dead letters (showing the first 2", output, StringComparison.Ordinal);

        var narrow = new Dictionary<string, string>(bed.Environment) { ["COLUMNS"] = "130" };
        (_, output) = await SinkProcess.RunToEndAsync(["dlq", "list", "--config", bed.ConfigDirectory], narrow);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.All(lines, l => Assert.True(l.Length <= 130, l));
        Assert.Contains(lines, l => l.Length == 130 && l.Contains("first line second line xxx", StringComparison.Ordinal) && l.EndsWith('…'));

        (exit, output) = await SinkAsync(bed, "dlq", "list", "--json");
        Assert.True(exit == 0, output);
        using var json = JsonDocument.Parse(output);
        var all = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(ids, all.Select(e => e.GetProperty("id").GetInt64()));
        var orders = all[3];
        Assert.Equal(("orders", bed.Topic, 0, 4L, "Rejected", longMessage), (
            orders.GetProperty("mapping").GetString(), orders.GetProperty("topic").GetString(), orders.GetProperty("partition").GetInt32(),
            orders.GetProperty("offset").GetInt64(), orders.GetProperty("error_kind").GetString(), orders.GetProperty("error_message").GetString()));
        Assert.Equal(SinkTestBed.Event(4).Value, orders.GetProperty("value").GetBytesFromBase64());
        Assert.Equal(Encoding.UTF8.GetString(SinkTestBed.Event(4).Value!), orders.GetProperty("value_text").GetString());
        Assert.Equal("k4", orders.GetProperty("key_text").GetString());
        Assert.Equal([0xff, 0xfe, 0x00], all[4].GetProperty("value").GetBytesFromBase64());
        Assert.False(all[4].TryGetProperty("value_text", out _));

        (_, output) = await SinkAsync(bed, "dlq", "list", "--json", "--mapping", "orders");
        using var filtered = JsonDocument.Parse(output);
        Assert.Equal([ids[3]], filtered.RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task Show_decodes_text_json_binary_and_headers()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "dlq_show", partitions: 1);
        var headers = new Headers { { "trace-id", "abc"u8.ToArray() }, { "bin", [0xff, 0x00, 0x01] }, { "empty", null } };
        var longBinary = Enumerable.Range(0, 100).Select(i => (byte)(i * 7)).ToArray();
        var document = """{"id":17,"items":[1,2],"note":"café"}"""u8.ToArray();
        var ids = await InsertAsync(bed,
        [
            Letter(bed, "events", 17, key: "order-17"u8.ToArray(), value: document, headers: headers),
            Letter(bed, "events", 18, key: longBinary, value: [0x00, 0x01, 0xfe]),
        ]);

        var (exit, output) = await SinkAsync(bed, "dlq", "show", ids[0].ToString(CultureInfo.InvariantCulture));
        Assert.True(exit == 0, output);
        Assert.Contains("offset:          17", output, StringComparison.Ordinal);
        Assert.Contains("error_kind:      MissingField", output, StringComparison.Ordinal);
        Assert.Contains("  trace-id (text, 3 bytes): abc", output, StringComparison.Ordinal);
        Assert.Contains("  bin (binary, 3 bytes, hex): ff0001", output, StringComparison.Ordinal);
        Assert.Contains("  empty (null): ", output, StringComparison.Ordinal);
        Assert.Contains("key (text, 8 bytes):\n  order-17\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains($"value (JSON, {document.Length} bytes):\n  {{\n    \"id\": 17,\n    \"items\": [\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\"note\": \"café\"", output, StringComparison.Ordinal);

        (exit, output) = await SinkAsync(bed, "dlq", "show", ids[1].ToString(CultureInfo.InvariantCulture));
        Assert.True(exit == 0, output);
        Assert.Contains($"key (binary, 100 bytes, base64):\n  {Convert.ToBase64String(longBinary)}\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("value (binary, 3 bytes, hex):\n  0001fe", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("headers:         (none)", output, StringComparison.Ordinal);

        (exit, output) = await SinkAsync(bed, "dlq", "show", ids[0].ToString(CultureInfo.InvariantCulture), "--json");
        Assert.True(exit == 0, output);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("""{"id":17,"items":[1,2],"note":"café"}""", root.GetProperty("value_text").GetString());
        Assert.Equal("order-17", root.GetProperty("key_text").GetString());
        var decoded = root.GetProperty("headers").EnumerateArray()
            .Select(h => (h.GetProperty("key").GetString(), h.GetProperty("value").ValueKind == JsonValueKind.Null ? null : Convert.ToHexString(h.GetProperty("value").GetBytesFromBase64())))
            .ToList();
        Assert.Equal([("trace-id", "616263"), ("bin", "FF0001"), ("empty", null)], decoded);

        (exit, output) = await SinkAsync(bed, "dlq", "show", "999999");
        Assert.True(exit == 1, output);
        Assert.Contains("dead letter 999999 not found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_with_an_id_that_is_not_a_number_says_so_and_exits_2()
    {
        var (exit, output) = await SinkProcess.RunToEndAsync(["dlq", "show", "abc", "--config", Path.GetTempPath()]);
        Assert.True(exit == 2, output);
        Assert.Contains("id must be a number", output, StringComparison.Ordinal);
        Assert.Contains("'abc'", output, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Purge_without_yes_only_counts_and_exits_2_and_with_it_deletes_just_the_selection()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "dlq_purge", partitions: 1);
        var ids = await InsertAsync(bed,
        [
            Letter(bed, "events", 1, kind: "WrongType"),
            Letter(bed, "events", 2, kind: "WrongType"),
            Letter(bed, "events", 3, kind: "MissingField"),
            Letter(bed, "orders", 4, kind: "MissingField"),
            Letter(bed, "orders", 5, kind: "Rejected"),
            Letter(bed, "events", 6, kind: "InvalidJson"),
        ]);
        Task<long> Left() => bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters");

        var (exit, output) = await SinkAsync(bed, "dlq", "purge", "--kind", "WrongType");
        Assert.True(exit == 2, output);
        Assert.Contains("would delete 2 dead letters", output, StringComparison.Ordinal);
        Assert.Equal(6, await Left());

        (exit, output) = await SinkAsync(bed, "dlq", "purge", "--kind", "WrongType", "--yes");
        Assert.True(exit == 0, output);
        Assert.Contains("deleted 2 dead letters", output, StringComparison.Ordinal);
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters WHERE error_kind = 'WrongType'"));

        (_, output) = await SinkAsync(bed, "dlq", "purge", "--ids", $"{ids[2]},{ids[3]}", "--mapping", "orders", "--yes");
        Assert.Contains("deleted 1 dead letters", output, StringComparison.Ordinal);
        (_, output) = await SinkAsync(bed, "dlq", "purge", "--before", "2000-01-01T00:00:00Z", "--yes");
        Assert.Contains("deleted 0 dead letters", output, StringComparison.Ordinal);
        (_, output) = await SinkAsync(bed, "dlq", "purge", "--mapping", "events", "--before", DateTimeOffset.UtcNow.AddHours(1).ToString("O", CultureInfo.InvariantCulture), "--yes");
        Assert.Contains("deleted 2 dead letters", output, StringComparison.Ordinal);
        Assert.Equal([ids[4]], await bed.QueryAsync("SELECT id FROM sink.dead_letters", r => r.GetInt64(0)));

        (exit, output) = await SinkAsync(bed, "dlq", "purge", "--yes");
        Assert.True(exit == 0, output);
        Assert.Equal(0, await Left());
        (exit, output) = await SinkAsync(bed, "dlq", "purge", "--before", "yesterday", "--yes");
        Assert.True(exit == 2, output);
    }

    /// <summary>The bed's table with an amount column; messages without an amount fail this mapping (MissingField) unless it is nullable.</summary>
    private static string Mapping(string topic, bool amountNullable) => $$"""
        topic: {{topic}}
        table: public.events
        format: json
        on_error: dead_letter
        columns:
          id:            { from: value.id, type: bigint }
          body:          { from: value.body, type: text }
          amount:        { from: value.amount, type: "numeric(12,2)"{{(amountNullable ? ", nullable: true" : "")}} }
          payload:       { from: value, type: jsonb }
          src_partition: { from: partition, type: integer }
          src_offset:    { from: offset, type: bigint }
        """;

    [Fact]
    public async Task Every_command_prints_times_as_ISO_8601_UTC_with_milliseconds_like_the_log()
    {
        await using var bed = await BedWithDeadLettersAsync("dlq_times", partitions: 1, good: 5, bad: 1);
        var id = (await bed.QueryAsync("SELECT id FROM sink.dead_letters", r => r.GetInt64(0))).Single();
        var iso = new Regex(@"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\b");
        // Any other rendering of a time: round-trip "O" (7 digits, +00:00 offset), seconds only, or a space separator.
        var other = new Regex(@"\d{2}:\d{2}:\d{2}(\.\d{4,}|Z|[+-]\d{2}:\d{2})|\d{4}-\d{2}-\d{2} \d{2}:");
        foreach (var command in new[]
                 {
                     new[] { "offsets", "show", "--topic", bed.Topic }, ["status"], ["dlq", "list"],
                     ["dlq", "show", id.ToString(CultureInfo.InvariantCulture)],
                 })
        {
            var (exit, output) = await SinkAsync(bed, command);
            Assert.True(exit == 0, output);
            Assert.True(iso.IsMatch(output), $"sink {string.Join(' ', command)} printed no ISO-8601 UTC time:\n{output}");
            Assert.False(other.IsMatch(output), $"sink {string.Join(' ', command)} printed a time another way:\n{output}");
        }
    }

    /// <summary>Ids 0..good-1 are good events; ids good..good+bad-1, spread among them, lack the amount and become dead letters.</summary>
    private async Task<SinkTestBed> BedWithDeadLettersAsync(string name, int partitions, int good, int bad)
    {
        var bed = await SinkTestBed.CreateAsync(services, name, partitions);
        await bed.ExecuteAsync("ALTER TABLE public.events ADD COLUMN amount numeric(12,2)");
        await bed.WriteMappingAsync("events.yaml", Mapping(bed.Topic, amountNullable: false));
        var messages = new List<(int, Message<byte[]?, byte[]?>)>();
        for (var id = 0; id < good + bad; id++)
        {
            var message = id < good ? SinkTestBed.Event(id) : new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes($"k{id}"),
                Value = Encoding.UTF8.GetBytes($$"""{"id":{{id}},"body":"event {{id}}"}"""),
                Headers = new Headers { { "trace-id", Encoding.UTF8.GetBytes($"t{id}") } },
            };
            // Bad ones interleaved with good ones, on every partition.
            var position = id < good ? id * bad : ((id - good) * good) + (good / 2);
            messages.Add((position, message));
        }

        await bed.ProduceAsync(bed.Topic, messages.OrderBy(m => m.Item1).Select((m, i) => (i % partitions, m.Item2)));
        await bed.RunInProcessAsync(() => bed.WaitForCommittedAsync(good + bad, s_catchUp), s_catchUp);
        Assert.Equal(good, await bed.RowCountAsync());
        Assert.Equal(bad, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
        return bed;
    }

    /// <summary>Every id 0..count-1 exactly once, each from a different message.</summary>
    private static async Task AssertEveryIdOnceAsync(SinkTestBed bed, int count)
    {
        Assert.Equal(count, await bed.RowCountAsync());
        Assert.Equal(count, await bed.ScalarAsync($"SELECT count(DISTINCT id) FROM public.events WHERE id BETWEEN 0 AND {count - 1}"));
        Assert.Equal(count, await bed.ScalarAsync("SELECT count(DISTINCT (src_partition, src_offset)) FROM public.events"));
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM public.events WHERE body <> 'event ' || id"));
    }

    private static Task<(int ExitCode, string Output)> SinkAsync(SinkTestBed bed, params string[] args) =>
        SinkProcess.RunToEndAsync([.. args, "--config", bed.ConfigDirectory], bed.Environment);

    /// <summary>A dead letter exactly as the sink builds it, for message <paramref name="offset"/> of the bed's topic (or <paramref name="topic"/>).</summary>
    private static DeadLetter Letter(
        SinkTestBed bed, string mapping, long offset, string kind = "MissingField", string message = "value.amount: missing",
        byte[]? key = null, byte[]? value = null, bool tombstone = false, Headers? headers = null, string? topic = null)
    {
        var result = new ConsumeResult<byte[]?, byte[]?>
        {
            Topic = topic ?? bed.Topic,
            Partition = new Partition(0),
            Offset = new Offset(offset),
            Message = new Message<byte[]?, byte[]?>
            {
                Key = key ?? Encoding.UTF8.GetBytes($"k{offset}"),
                Value = tombstone ? null : value ?? SinkTestBed.Event(offset).Value,
                Headers = headers,
                Timestamp = new Timestamp(new DateTime(2026, 11, 21, 12, 0, 0, DateTimeKind.Utc), TimestampType.CreateTime),
            },
        };
        return DeadLetterBuilder.From(bed.Config().Mappings[0] with { Name = mapping }, result, kind, message);
    }

    /// <summary>Writes dead letters of the bed's connector the way the sink does; returns their ids in order.</summary>
    private static async Task<long[]> InsertAsync(SinkTestBed bed, DeadLetter[] letters)
    {
        await using (var database = new SinkDatabase(bed.Config().Connector.Postgres))
        await using (var connection = await database.DataSource.OpenConnectionAsync(TestContext.Current.CancellationToken))
        {
            await new DeadLetterStore(database, bed.GroupId).AddAsync(connection, letters, TestContext.Current.CancellationToken);
        }

        return [.. await bed.QueryAsync("SELECT id FROM sink.dead_letters ORDER BY id", r => r.GetInt64(0))];
    }

    /// <summary>The ids of the rows of a <c>sink dlq list</c> table.</summary>
    private static long[] ListedIds(string output) =>
        [.. output.Split('\n').Select(l => l.Trim().Split(' ')[0]).Where(t => t.Length > 0 && t.All(char.IsAsciiDigit)).Select(t => long.Parse(t, CultureInfo.InvariantCulture))];
}

/// <summary>The pure formatting of <c>sink dlq</c>: no database, no processes.</summary>
public class DeadLetterFormatTests
{
    [Theory]
    [InlineData("abcdef", 6, "abcdef")]
    [InlineData("abcdef", 4, "abc…")]
    [InlineData("ab😀cd", 4, "ab…")] // the emoji is two UTF-16 units: never cut in half
    public void Truncate_keeps_at_most_max_characters_ending_in_an_ellipsis(string text, int max, string expected) =>
        Assert.Equal(expected, DeadLetterFormat.Truncate(text, max));

    [Fact]
    public void Table_rows_are_one_line_each_and_the_error_fills_the_width()
    {
        var rows = new[]
        {
            Letter(1, "short"),
            Letter(22, "a\nmultiline\r\nmessage " + new string('x', 200)),
        };
        var lines = DeadLetterFormat.Table(rows, width: 120);
        Assert.Equal(3, lines.Count);
        Assert.StartsWith("id  mapping  topic", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("  short", lines[1], StringComparison.Ordinal);
        Assert.Equal(120, lines[2].Length);
        Assert.Contains("a multiline  message xx", lines[2], StringComparison.Ordinal);
        Assert.EndsWith("x…", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("22  events   orders", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_shows_json_pretty_text_as_is_and_binary_as_hex_or_base64()
    {
        Assert.Equal(("null", ""), DeadLetterFormat.Describe(null));
        Assert.Equal(("text, 8 bytes", "order-17"), DeadLetterFormat.Describe("order-17"u8.ToArray()));
        Assert.Equal(("text, 2 bytes", "17"), DeadLetterFormat.Describe("17"u8.ToArray()));
        Assert.Equal(("JSON, 9 bytes", "{\n  \"a\": [\n    1\n  ]\n}".ReplaceLineEndings()), DeadLetterFormat.Describe("""{"a":[1]}"""u8.ToArray()));
        Assert.Equal(("binary, 3 bytes, hex", "00ff10"), DeadLetterFormat.Describe([0x00, 0xff, 0x10]));
        // Valid UTF-8 but with a terminal escape: not printed raw.
        Assert.Equal(("binary, 4 bytes, hex", "1b5b326a"), DeadLetterFormat.Describe("\u001b[2j"u8.ToArray()));
        var big = new byte[DeadLetterFormat.MaxHexBytes + 1];
        Assert.Equal(($"binary, {big.Length} bytes, base64", Convert.ToBase64String(big)), DeadLetterFormat.Describe(big));
    }

    [Theory]
    [InlineData("1,2,3", new long[] { 1, 2, 3 })]
    [InlineData("3, 1,,3", new long[] { 3, 1 })]
    [InlineData("1,x", null)]
    [InlineData("0", null)]
    [InlineData("-4", null)]
    [InlineData(",", null)]
    public void ParseIds_accepts_comma_separated_positive_ids(string token, long[]? expected) =>
        Assert.Equal(expected, DeadLetterFormat.ParseIds(token.Split(' ')));

    [Fact]
    public void Replay_summary_names_still_failing_and_kept_ids()
    {
        var result = new ReplayResult(
            Replayed: [1, 2, 5], Skipped: [5],
            StillFailing: [new DeadLetterError(3, "Rejected", "SQLSTATE 23514: check\nfailed")],
            Unmapped: [Letter(7, "x", mapping: "retired"), Letter(8, "y", mapping: "retired")]);
        var lines = DeadLetterFormat.ReplaySummary(result);
        Assert.Equal(
            [
                "replayed 3 (1 of them now skipped by their mapping), still failing 1 (ids 3)",
                "  3: Rejected: SQLSTATE 23514: check failed",
                "kept 2 of mapping 'retired', which is not in the configuration (ids 7, 8)",
            ],
            lines);
    }

    [Fact]
    public void Details_table_and_json_never_print_control_or_bidi_characters_raw()
    {
        const string hostile = "'\u001b[31mred\u001b]0;title\u0007' is not an integer (\u009b2J\u202eevil)";
        var letter = Letter(5, hostile, mapping: "ev\u001bents");
        letter.Key = "k\u202e5"u8.ToArray();
        // JSON escapes only: the value is printable text, but its strings decode to an ESC and a bidi override.
        letter.Value = """{"id":"\u001b[31mred\u202e"}"""u8.ToArray();
        letter.Headers = """[{"key":"x\u001b[2J","value":"G1sySg=="},{"key":"note","value":"4oCuYQ=="}]""";

        var details = DeadLetterFormat.Details(letter);
        var table = string.Join("\n", DeadLetterFormat.Table([letter], width: 300));
        var json = DeadLetterFormat.Json(letter);

        foreach (var output in new[] { details, table, json })
        {
            Assert.True(TerminalText.IsSafe(output.Replace("\n", "", StringComparison.Ordinal)), output);
        }

        Assert.Contains("error_message:   '\\u001b[31mred\\u001b]0;title\\u0007' is not an integer (\\u009b2J\\u202eevil)", details, StringComparison.Ordinal);
        Assert.Contains("mapping:         ev\\u001bents", details, StringComparison.Ordinal);
        Assert.Contains("  x\\u001b[2J (binary, 4 bytes, hex): 1b5b324a", details, StringComparison.Ordinal);
        Assert.Contains("  note (binary, 4 bytes, hex): e280ae61", details, StringComparison.Ordinal);
        Assert.Contains("key (binary, 5 bytes, hex):", details, StringComparison.Ordinal);
        Assert.Contains("'\\u001b[31mred", table, StringComparison.Ordinal);
        Assert.Contains("value (JSON, ", details, StringComparison.Ordinal);
        Assert.Equal(hostile, JsonDocument.Parse(json).RootElement.GetProperty("error_message").GetString());
    }

    [Fact]
    public void Kinds_are_the_conversion_error_kinds_IncompatibleSchema_Rejected_and_the_library_handler_failures() =>
        Assert.Equal(["InvalidJson", "MissingField", "WrongType", "OutOfRange", "InvalidEnvelope", "UnknownSchema", "InvalidEncoding", "Unexpected", "IncompatibleSchema", "Rejected", "HandlerFailed", "Timeout"], DeadLetterFormat.Kinds);

    private static DeadLetter Letter(long id, string message, string mapping = "events") => new()
    {
        Id = id,
        Mapping = mapping,
        Topic = "orders",
        Partition = 0,
        Offset = id * 10,
        ErrorKind = "MissingField",
        ErrorMessage = message,
        CreatedAt = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero),
    };
}
