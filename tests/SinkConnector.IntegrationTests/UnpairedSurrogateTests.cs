using System.Text;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// A JSON escape of an unpaired UTF-16 surrogate (<c>"\ud800"</c>) once made the converter throw: <c>sink run</c> died
/// on that message at every restart (no dead letter, offset never past it) and <c>sink dlq replay</c> died on its dead
/// letter. Now such a key or value is invalid JSON, a message error like any other.
/// </summary>
public class UnpairedSurrogateTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    /// <summary>One poison message per way of reading it: each column type, the key, an unmapped property name.</summary>
    private static readonly (string Key, string Value)[] s_poison =
    [
        ("k", """{"id":1000,"s":"\ud800"}"""),
        ("k", """{"id":1001,"n":"\ud800"}"""),
        ("k", """{"id":1002,"t":"2024-03-01T10:00:00Z\udc00"}"""),
        ("k", """{"id":1003,"u":"\ud800"}"""),
        ("k", """{"id":1004,"tags":["a","\ud800"]}"""),
        ("""{"k":"\ud800"}""", """{"id":1005}"""),
        ("k", """{"id":1006,"\ud800":1}"""),
        ("k", """{"id":1007,"s":"ok\ud83d\ude00","payload":{"x":"\udfff"}}"""),
    ];

    private static string Mapping(string topic) =>
        $$"""
        topic: {{topic}}
        table: public.hostile
        format: json
        mode: insert
        on_error: dead_letter
        columns:
          id:            { from: value.id, type: bigint }
          s:             { from: value.s, type: text, nullable: true }
          n:             { from: value.n, type: bigint, nullable: true }
          t:             { from: value.t, type: timestamptz, nullable: true }
          u:             { from: value.u, type: uuid, nullable: true }
          tags:          { from: value.tags, type: "text[]", nullable: true }
          k:             { from: key.k, type: text, nullable: true }
          src_partition: { from: partition, type: integer }
          src_offset:    { from: offset, type: bigint }
        """;

    [Fact]
    public async Task Unpaired_surrogate_escapes_among_good_messages_become_dead_letters_and_sink_run_keeps_going()
    {
        const int good = 300;
        await using var bed = await CreateAsync("surrogate_run", good);

        // The real process: it must commit past every poison message and still stop cleanly (exit 0) on SIGTERM.
        await bed.RunToCompletionAsync(good + s_poison.Length);

        await AssertGoodRowsOnceAndPoisonDeadAsync(bed, good);
    }

    [Fact]
    public async Task Dlq_replay_of_an_unpaired_surrogate_dead_letter_keeps_it_with_the_error_again()
    {
        const int good = 20;
        await using var bed = await CreateAsync("surrogate_replay", good);
        await bed.RunInProcessAsync(() => bed.WaitForCommittedAsync(good + s_poison.Length, s_catchUp), s_catchUp);
        await AssertGoodRowsOnceAndPoisonDeadAsync(bed, good);
        await bed.ExecuteAsync("UPDATE sink.dead_letters SET error_message = 'before replay'");

        var (exit, output) = await SinkProcess.RunToEndAsync(["dlq", "replay", "--config", bed.ConfigDirectory], bed.Environment);

        Assert.True(exit == 0, output);
        Assert.Contains($"replayed 0, still failing {s_poison.Length}", output, StringComparison.Ordinal);
        Assert.Equal(s_poison.Length, await bed.ScalarAsync(
            "SELECT count(*) FROM sink.dead_letters WHERE error_kind = 'InvalidJson' AND error_message LIKE '%invalid unicode escape%'"));
        Assert.Equal(good, await bed.ScalarAsync("SELECT count(*) FROM public.hostile"));
    }

    private async Task<SinkTestBed> CreateAsync(string name, int good)
    {
        var bed = await SinkTestBed.CreateAsync(services, name, partitions: 1, batch: "max_rows: 50\n  max_latency: 50ms");
        await bed.ExecuteAsync(
            """
            CREATE TABLE public.hostile (
                id bigint NOT NULL, s text, n bigint, t timestamptz, u uuid, tags text[], k text,
                src_partition integer NOT NULL, src_offset bigint NOT NULL)
            """);
        await bed.WriteMappingAsync("events.yaml", Mapping(bed.Topic));

        // The poison spread among the good messages, each between good ones.
        var messages = new List<Message<byte[]?, byte[]?>>();
        var step = good / (s_poison.Length + 1);
        for (var id = 0; id < good; id++)
        {
            messages.Add(new Message<byte[]?, byte[]?>
            {
                Key = Utf8($$"""{"k":"key {{id}}"}"""),
                Value = Utf8($$"""{"id":{{id}},"s":"text {{id}} \ud83d\ude00","n":"{{id}}","t":"2024-03-01T10:00:00.9999995Z","u":"5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b","tags":["a","b"]}"""),
            });
            if (id % step == step - 1 && (id / step) < s_poison.Length)
            {
                var (key, value) = s_poison[id / step];
                messages.Add(new Message<byte[]?, byte[]?> { Key = Utf8(key), Value = Utf8(value) });
            }
        }

        await bed.ProduceAsync(bed.Topic, messages.Select(m => (0, m)));
        return bed;
    }

    private static async Task AssertGoodRowsOnceAndPoisonDeadAsync(SinkTestBed bed, int good)
    {
        Assert.Equal(good, await bed.ScalarAsync("SELECT count(*) FROM public.hostile"));
        Assert.Equal(good, await bed.ScalarAsync(
            """
            SELECT count(DISTINCT id) FROM public.hostile
            WHERE s = 'text ' || id || ' 😀' AND n = id AND t = '2024-03-01T10:00:01Z' AND k = 'key ' || id AND tags = '{a,b}'
            """));
        var deadLetters = await bed.QueryAsync(
            "SELECT convert_from(value, 'UTF8'), error_kind, error_message FROM sink.dead_letters ORDER BY \"offset\"",
            r => (Value: r.GetString(0), Kind: r.GetString(1), Message: r.GetString(2)));
        Assert.Equal(s_poison.Select(p => p.Value), deadLetters.Select(d => d.Value));
        Assert.All(deadLetters, d =>
        {
            Assert.Equal("InvalidJson", d.Kind);
            Assert.Contains("invalid unicode escape", d.Message, StringComparison.Ordinal);
        });
        Assert.Equal(good + s_poison.Length, (await bed.StoredOffsetsAsync(bed.Topic))[0]);
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
