using System.Text;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>Bad input becomes dead letters, in the batch transaction, exactly once; it never stops a partition.</summary>
public class PoisonMessageTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    /// <summary>Each is a message the events mapping cannot convert, with the error kind it must be filed under.</summary>
    private static readonly (string Kind, byte[] Value)[] s_corpus =
    [
        ("InvalidJson", Utf8("""{"id": 1, "body": """)),
        ("InvalidJson", [0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x31, 0x2C, 0x22, 0x62, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D]),
        ("InvalidJson", Utf8("""{"id": 5, "bo""")),
        ("InvalidJson", Utf8(new string('[', 5_000) + new string(']', 5_000))),
        ("OutOfRange", Utf8("""{"id": 1e400, "body": "huge"}""")),
        ("OutOfRange", Utf8("""{"id": 92233720368547758070, "body": "huge"}""")),
        ("WrongType", Utf8("""{"id": "seventeen", "body": "wrong"}""")),
        ("WrongType", Utf8("""{"id": 7, "body": {"not": "text"}}""")),
        ("MissingField", Utf8("""{"body": "no id"}""")),
        ("InvalidJson", []),
        ("InvalidJson", Utf8("not json at all " + new string('x', 1 << 20))),
    ];

    [Fact]
    public async Task Bad_messages_among_good_ones_become_dead_letters_exactly_once_across_kills()
    {
        const int good = 20_000, partitions = 4, kills = 3;
        var seed = Random.Shared.Next();
        var random = new Random(seed);
        await using var bed = await SinkTestBed.CreateAsync(services, "poison", partitions);
        await bed.WriteMappingAsync("events.yaml", SinkTestBed.EventsMapping(bed.Topic, onError: "dead_letter"));
        var accountsTopic = await bed.AddTopicAsync("poison-accounts", 1);
        await bed.ExecuteAsync(AccountChanges.TableSql);
        await bed.WriteMappingAsync("accounts.yaml", AccountChanges.Mapping(accountsTopic, onError: "dead_letter"));

        // Good events round-robin; each bad message goes to a random partition among them (several rounds of the corpus).
        var messages = new List<(int Partition, Message<byte[]?, byte[]?> Message, string? BadKind)>();
        var badLeft = Enumerable.Repeat(s_corpus, 4).SelectMany(c => c).OrderBy(_ => random.Next()).ToList();
        for (var id = 0; id < good; id++)
        {
            messages.Add((id % partitions, SinkTestBed.Event(id), null));
            if (badLeft.Count > 0 && random.Next(good / 60) == 0)
            {
                var (kind, value) = badLeft[^1];
                badLeft.RemoveAt(badLeft.Count - 1);
                messages.Add((random.Next(partitions), new Message<byte[]?, byte[]?> { Key = Utf8("bad"), Value = value, Headers = [new Header("why", Utf8(kind))] }, kind));
            }
        }

        messages.AddRange(badLeft.Select(b => (random.Next(partitions), new Message<byte[]?, byte[]?> { Value = b.Value }, (string?)b.Kind)));
        var expectedBad = ExpectedDeadLetters(messages);
        // An upsert whose key column is null: the row cannot be upserted.
        var nullKey = new Message<byte[]?, byte[]?> { Key = Utf8("{}"), Value = Utf8("""{"id": null, "balance": "1.00", "version": 1}""") };
        await bed.ProduceAsync(accountsTopic, [(0, nullKey)]);

        var chunk = messages.Count / (kills + 1) + 1;
        var produced = 0;
        for (var kill = 0; kill < kills; kill++)
        {
            await bed.ProduceAsync(bed.Topic, messages.Skip(produced).Take(chunk).Select(m => (m.Partition, m.Message)));
            produced += chunk;
            await bed.RunAndKillAsync(random);
        }

        await bed.ProduceAsync(bed.Topic, messages.Skip(produced).Select(m => (m.Partition, m.Message)));
        await bed.RunToCompletionAsync(messages.Count + 1);

        Assert.Equal(good, await bed.RowCountAsync());
        Assert.Equal(good, await bed.ScalarAsync("SELECT count(DISTINCT id) FROM public.events"));
        var deadLetters = await bed.QueryAsync(
            $"SELECT partition, \"offset\", error_kind, length(value) FROM sink.dead_letters WHERE topic = '{bed.Topic}' ORDER BY partition, \"offset\"",
            r => (r.GetInt32(0), r.GetInt64(1), r.GetString(2)));
        Assert.Equal(expectedBad, deadLetters);
        Assert.Equal(1 << 20, await bed.ScalarAsync("SELECT max(length(value)) - length('not json at all ') FROM sink.dead_letters"));
        Assert.Equal(1, await bed.ScalarAsync($"SELECT count(*) FROM sink.dead_letters WHERE topic = '{accountsTopic}' AND error_kind = 'MissingField'"));
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM public.accounts"));
    }

    [Fact]
    public async Task A_row_violating_a_check_constraint_in_a_10000_row_batch_is_the_only_dead_letter()
    {
        const int count = 10_000, badId = 4_321;
        await using var bed = await SinkTestBed.CreateAsync(services, "check", partitions: 1, batch: "max_rows: 10000\n  max_latency: 10s");
        await bed.WriteMappingAsync("events.yaml", SinkTestBed.EventsMapping(bed.Topic, onError: "dead_letter"));
        await bed.ExecuteAsync($"ALTER TABLE public.events ADD CONSTRAINT no_4321 CHECK (id <> {badId})");
        await bed.ProduceAsync(count, partitions: 1);

        await bed.RunInProcessAsync(() => bed.WaitForCommittedAsync(count, s_catchUp), s_catchUp);

        Assert.Equal(count - 1, await bed.RowCountAsync());
        Assert.Equal(0, await bed.ScalarAsync($"SELECT count(*) FROM public.events WHERE id = {badId}"));
        // One transaction wrote all of them (now() is the transaction's start): isolated, not split into smaller commits.
        Assert.Equal(1, await bed.ScalarAsync(
            "SELECT count(DISTINCT t) FROM (SELECT written_at FROM public.events UNION SELECT created_at FROM sink.dead_letters) AS w(t)"));
        var deadLetter = Assert.Single(await bed.QueryAsync(
            "SELECT \"offset\", error_kind, error_message FROM sink.dead_letters", r => (r.GetInt64(0), r.GetString(1), r.GetString(2))));
        Assert.Equal((badId, "Rejected"), (deadLetter.Item1, deadLetter.Item2));
        Assert.Contains("SQLSTATE 23514", deadLetter.Item3, StringComparison.Ordinal);
        Assert.Contains("no_4321", deadLetter.Item3, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rejected_upsert_costs_only_itself_not_the_earlier_changes_of_its_key_in_the_batch()
    {
        // Found by the chaos soak: de-duplicating before isolating bad rows lost id 1's v1 (its last change was
        // rejected) and dropped id 2's rejected change without a dead letter (a later change superseded it).
        await using var bed = await SinkTestBed.CreateAsync(services, "layers", partitions: 1, batch: "max_rows: 100\n  max_latency: 5s");
        await bed.ExecuteAsync(AccountChanges.TableSql + "; ALTER TABLE public.accounts ADD CONSTRAINT version_positive CHECK (version >= 0)");
        await bed.WriteMappingAsync("events.yaml", AccountChanges.Mapping(bed.Topic, onError: "dead_letter"));
        (long Id, long Version)[] changes = [(1, 1), (1, -1), (2, 2), (2, -1), (2, 3)];
        await bed.ProduceAsync(bed.Topic, changes.Select(c => (0, new Message<byte[]?, byte[]?>
        {
            Key = Utf8($$"""{"id":{{c.Id}}}"""),
            Value = Utf8($$"""{"id":{{c.Id}},"balance":"{{c.Version}}.50","version":{{c.Version}}}"""),
        })));

        await bed.RunInProcessAsync(() => bed.WaitForCommittedAsync(changes.Length, s_catchUp), s_catchUp);

        Assert.Equal([(1L, 1L), (2L, 3L)], await bed.QueryAsync("SELECT id, version FROM public.accounts ORDER BY id", r => (r.GetInt64(0), r.GetInt64(1))));
        Assert.Equal([(1L, "Rejected"), (3L, "Rejected")],
            await bed.QueryAsync("SELECT \"offset\", error_kind FROM sink.dead_letters ORDER BY \"offset\"", r => (r.GetInt64(0), r.GetString(1))));
    }

    [Fact]
    public async Task Under_on_error_fail_a_poison_message_stops_the_sink_with_exit_1_and_its_offset_is_never_passed()
    {
        const int before = 3_000, after = 500;
        await using var bed = await SinkTestBed.CreateAsync(services, "failstop", partitions: 1, batch: "max_rows: 1000\n  max_latency: 200ms");
        await bed.WriteMappingAsync("events.yaml", SinkTestBed.EventsMapping(bed.Topic, onError: "fail"));
        await bed.ProduceAsync(before, partitions: 1);
        await bed.ProduceAsync(bed.Topic, [(0, new Message<byte[]?, byte[]?> { Value = Utf8("""{"id": "not a number"}""") })]);
        await bed.ProduceAsync(after, partitions: 1, firstId: before);

        var (exitCode, output) = await SinkProcess.RunToEndAsync(["run", "--config", bed.ConfigDirectory], bed.Environment, s_catchUp);

        Assert.True(exitCode == 1, $"exit {exitCode}, expected 1:\n{output}");
        Assert.Contains($"cannot convert {bed.Topic} [[0]] @{before}", output, StringComparison.Ordinal);
        Assert.Contains("on_error is 'fail'", output, StringComparison.Ordinal);
        // Everything before the poison message may be written; nothing at or after it, and no dead letter.
        var stored = (await bed.StoredOffsetsAsync(bed.Topic)).GetValueOrDefault(0);
        Assert.InRange(stored, 0, before);
        Assert.Equal(stored, await bed.RowCountAsync());
        Assert.Equal(0, await bed.ScalarAsync($"SELECT count(*) FROM public.events WHERE id >= {before}"));
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
    }

    [Fact]
    public async Task A_loop_failure_while_http_is_served_still_ends_the_process_with_exit_1_and_its_reason()
    {
        // Kestrel runs in the same host as the sink: the failure must stop the whole host, not leave a process that
        // answers probes and consumes nothing, and the outcome must not be the host's clean exit 0.
        await using var bed = await SinkTestBed.CreateAsync(services, "failhttp", partitions: 1, batch: "max_rows: 1000\n  max_latency: 200ms");
        await bed.WriteMappingAsync("events.yaml", SinkTestBed.EventsMapping(bed.Topic, onError: "fail"));
        await bed.EnableHttpAsync();
        await bed.ProduceAsync(10, partitions: 1);
        await bed.ProduceAsync(bed.Topic, [(0, new Message<byte[]?, byte[]?> { Value = Utf8("""{"id": "not a number"}""") })]);

        var (exitCode, output) = await SinkProcess.RunToEndAsync(["run", "--config", bed.ConfigDirectory], bed.Environment, s_catchUp);

        Assert.True(exitCode == 1, $"exit {exitCode}, expected 1:\n{output}");
        // The reason, as the last word on stderr.
        Assert.Contains(output.Split('\n'), line => line.StartsWith("sink: ", StringComparison.Ordinal) && line.Contains($"cannot convert {bed.Topic} [[0]] @10", StringComparison.Ordinal));
    }

    /// <summary>(partition, offset, kind) of every bad message: offsets follow produce order within a fresh partition.</summary>
    private static List<(int, long, string)> ExpectedDeadLetters(List<(int Partition, Message<byte[]?, byte[]?> Message, string? BadKind)> messages)
    {
        var next = new Dictionary<int, long>();
        var bad = new List<(int, long, string)>();
        foreach (var (partition, _, kind) in messages)
        {
            var offset = next.GetValueOrDefault(partition);
            next[partition] = offset + 1;
            if (kind is not null)
            {
                bad.Add((partition, offset, kind));
            }
        }

        return [.. bad.OrderBy(b => b.Item1).ThenBy(b => b.Item2)];
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
