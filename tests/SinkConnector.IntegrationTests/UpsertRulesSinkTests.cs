using System.Text;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>newer_by and Debezium's unavailable-value placeholders through the real <c>sink</c> process.</summary>
public class UpsertRulesSinkTests(TestServices services)
{
    private const int Keys = 40, Partitions = 2;

    [Fact]
    public async Task Newer_by_never_moves_a_row_back_under_out_of_order_versions_late_old_versions_or_a_rewind()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "newer_by", Partitions);
        await bed.ExecuteAsync("CREATE TABLE public.items (id bigint PRIMARY KEY, version bigint NOT NULL, status text)");
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.items
            format: debezium
            mode: upsert
            key: [id]
            newer_by: version
            columns:
              id:      { from: value.id, type: bigint }
              version: { from: value.version, type: bigint }
              status:  { from: value.status, type: text, nullable: true }
            """);

        // Each key's newest version (5) arrives in the middle; a delete older than it (version 4) comes after it.
        int[] order = [3, 1, 5, 2, 4];
        await bed.ProduceAsync(bed.Topic, order.SelectMany(v => Enumerable.Range(0, Keys).Select(id => Item(id, v))));
        await bed.ProduceAsync(bed.Topic, Enumerable.Range(0, Keys).Select(id => Delete(id, version: 4)));
        var produced = (order.Length + 1) * Keys;
        await bed.RunToCompletionAsync(produced);
        await AssertEveryKeyAtAsync(bed, 5);

        // Old versions produced after the new ones, and then every message again from the start.
        await bed.ProduceAsync(bed.Topic, Enumerable.Range(0, Keys).Select(id => Item(id, 2)));
        produced += Keys;
        await bed.RunToCompletionAsync(produced);
        await AssertEveryKeyAtAsync(bed, 5);
        var (exit, output) = await SinkProcess.RunToEndAsync(
            ["offsets", "reset", "--config", bed.ConfigDirectory, "--topic", bed.Topic, "--to-earliest"], bed.Environment);
        Assert.True(exit == 0, output);
        Assert.Equal(0, await bed.CommittedAsync());
        await bed.RunToCompletionAsync(produced);
        await AssertEveryKeyAtAsync(bed, 5);

        // A delete as new as the row removes it.
        await bed.ProduceAsync(bed.Topic, Enumerable.Range(0, Keys / 2).Select(id => Delete(id, version: 5)));
        await bed.RunToCompletionAsync(produced + (Keys / 2));
        Assert.Equal(Keys / 2, await bed.ScalarAsync("SELECT count(*) FROM public.items"));
    }

    [Fact]
    public async Task Debezium_unavailable_placeholders_keep_the_stored_values_and_insert_null_where_no_row_exists()
    {
        await using var bed = await SinkTestBed.CreateAsync(services, "toast", partitions: 1);
        await bed.ExecuteAsync("CREATE TABLE public.docs (id bigint PRIMARY KEY, title text, body text, data jsonb, blob bytea, tags text[])");
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.docs
            format: debezium
            mode: upsert
            key: [id]
            columns:
              id:    { from: value.id, type: bigint }
              title: { from: value.title, type: text, nullable: true }
              body:  { from: value.body, type: text, nullable: true }
              data:  { from: value.data, type: jsonb, nullable: true }
              blob:  { from: value.blob, type: bytea, nullable: true }
              tags:  { from: value.tags, type: "text[]", nullable: true }
            """);
        const string placeholder = "__debezium_unavailable_value";
        var placeholderBytes = Convert.ToBase64String(Encoding.UTF8.GetBytes(placeholder));
        var unchanged = $$"""
            "body": "{{placeholder}}", "data": "{{placeholder}}", "blob": "{{placeholderBytes}}", "tags": ["{{placeholder}}"]
            """;
        await bed.ProduceAsync(bed.Topic, new[]
        {
            Debezium(1, "c", """{"id": 1, "title": "first", "body": "long text", "data": {"a": 1}, "blob": "AQID", "tags": ["x", "y"]}"""),
            Debezium(2, "c", """{"id": 2, "title": "second", "body": "kept", "data": [1], "blob": "BAU=", "tags": ["z"]}"""),
            // TOASTed columns unchanged: only the title changes.
            Debezium(1, "u", $$"""{"id": 1, "title": "renamed", {{unchanged}}}"""),
            // A real null still overwrites.
            Debezium(2, "u", $$"""{"id": 2, "title": null, "body": null, "data": "{{placeholder}}", "blob": "{{placeholderBytes}}", "tags": ["{{placeholder}}"]}"""),
            // No stored row (the sink never saw its insert): the unavailable columns are inserted as null.
            Debezium(3, "u", $$"""{"id": 3, "title": "orphan", {{unchanged}}}"""),
        }.Select(m => (0, m)));

        await bed.RunToCompletionAsync(5);

        var rows = await bed.QueryAsync(
            "SELECT id, title, body, data::text, encode(blob, 'hex'), array_to_string(tags, ',') FROM public.docs ORDER BY id",
            r => string.Join("|", Enumerable.Range(0, 6).Select(i => r.IsDBNull(i) ? "∅" : r.GetValue(i).ToString())));
        Assert.Equal(["1|renamed|long text|{\"a\": 1}|010203|x,y", "2|∅|∅|[1]|0405|z", "3|orphan|∅|∅|∅|∅"], rows);
    }

    private static (int Partition, Message<byte[]?, byte[]?> Message) Item(int id, int version) =>
        (id % Partitions, Debezium(id, "u", $$"""{"id":{{id}},"version":{{version}},"status":"v{{version}}"}"""));

    /// <summary>A Debezium delete: its before image carries the version of the row it deleted.</summary>
    private static (int Partition, Message<byte[]?, byte[]?> Message) Delete(int id, int version) =>
        (id % Partitions, new Message<byte[]?, byte[]?>
        {
            Key = Encoding.UTF8.GetBytes($$"""{"id":{{id}}}"""),
            Value = Encoding.UTF8.GetBytes("{\"op\":\"d\",\"before\":" + $$"""{"id":{{id}},"version":{{version}}""" + "},\"after\":null,\"source\":{\"lsn\":1}}"),
        });

    private static Message<byte[]?, byte[]?> Debezium(int id, string op, string after) => new()
    {
        Key = Encoding.UTF8.GetBytes($$"""{"id":{{id}}}"""),
        Value = Encoding.UTF8.GetBytes($$"""{"op":"{{op}}","before":null,"after":{{after}},"source":{"lsn":{{id}}""" + "}}"),
    };

    private static async Task AssertEveryKeyAtAsync(SinkTestBed bed, int version)
    {
        var rows = await bed.QueryAsync("SELECT id, version, status FROM public.items ORDER BY id", r => $"{r.GetInt64(0)} v{r.GetInt64(1)} {r.GetString(2)}");
        Assert.Equal(Enumerable.Range(0, Keys).Select(id => $"{id} v{version} v{version}"), rows);
    }
}
