using System.Text;
using System.Text.Json;
using Confluent.Kafka;

namespace SinkConnector.IntegrationTests;

/// <summary>Debezium, Kafka Connect JSON and raw messages end to end, into real tables.</summary>
public class FormatTests(TestServices services)
{
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Debezium_changes_with_and_without_the_schema_wrapper_end_as_applied_in_order_across_a_kill()
    {
        const int partitions = 3;
        var seed = Random.Shared.Next();
        await using var bed = await SinkTestBed.CreateAsync(services, "debezium", partitions);
        // The table does not exist: auto_create makes the schema and the table, with the key as primary key.
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: inventory.customers
            format: debezium
            mode: upsert
            key: [id]
            auto_create: true
            on_error: fail
            columns:
              id:    { from: value.id, type: bigint }
              name:  { from: value.name, type: text }
              email: { from: value.email, type: text, nullable: true }
              lsn:   { from: source.lsn, type: bigint }
            """);
        var stream = new DebeziumStream(partitions, seed);
        stream.Snapshot(ids: 80);
        stream.Changes(count: 1_500, ids: 160);
        await bed.ProduceAsync(bed.Topic, stream.Messages);

        await bed.RunAndKillAsync(new Random(seed));
        await bed.RunToCompletionAsync(stream.Messages.Count);
        var actual = await bed.QueryAsync(
            "SELECT id, name, email, lsn FROM inventory.customers ORDER BY id",
            r => (r.GetInt64(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetInt64(3)));
        Assert.Equal(stream.Expected.Select(e => (e.Key, e.Value.Name, e.Value.Email, e.Value.Lsn)), actual);
        Assert.True(stream.Deletes > 0 && stream.Expected.Count < 160, $"seed {seed}: the stream should delete rows");
        Assert.Equal(1, await bed.ScalarAsync(
            "SELECT count(*) FROM pg_index WHERE indrelid = 'inventory.customers'::regclass AND indisprimary"));
    }

    [Fact]
    public async Task Connect_json_payloads_and_raw_text_json_and_bytes_values_land_as_mapped()
    {
        const int count = 300;
        await using var bed = await SinkTestBed.CreateAsync(services, "formats", partitions: 1);
        var rawText = await bed.AddTopicAsync("raw-text", 1);
        var rawJson = await bed.AddTopicAsync("raw-json", 1);
        var rawBytes = await bed.AddTopicAsync("raw-bytes", 1);
        await bed.ExecuteAsync(
            """
            CREATE TABLE public.products (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL, tags text[]);
            CREATE TABLE public.raw_lines (line text NOT NULL, src_offset bigint NOT NULL);
            CREATE TABLE public.raw_docs (doc jsonb NOT NULL);
            CREATE TABLE public.raw_blobs (data bytea NOT NULL, src_offset bigint NOT NULL);
            """);
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.products
            format: connect-json
            columns:
              id:    { from: value.id, type: bigint }
              name:  { from: value.name, type: text }
              price: { from: value.price, type: "numeric(10,2)" }
              tags:  { from: value.tags, type: "text[]", nullable: true }
            """);
        await bed.WriteMappingAsync("raw_text.yaml", $$"""
            topic: {{rawText}}
            table: public.raw_lines
            format: raw
            columns:
              line:       { from: value, type: text }
              src_offset: { from: offset, type: bigint }
            """);
        await bed.WriteMappingAsync("raw_json.yaml", $$"""
            topic: {{rawJson}}
            table: public.raw_docs
            format: raw
            columns:
              doc: { from: value, type: jsonb }
            """);
        await bed.WriteMappingAsync("raw_bytes.yaml", $$"""
            topic: {{rawBytes}}
            table: public.raw_blobs
            format: raw
            columns:
              data:       { from: value, type: bytea }
              src_offset: { from: offset, type: bigint }
            """);

        var blobs = Enumerable.Range(0, count).Select(i => new[] { (byte)i, (byte)0xFF, (byte)0xC3, (byte)(i >> 8) }).ToList();
        await bed.ProduceAsync(bed.Topic, Enumerable.Range(0, count).Select(i => Value(
            $$$"""{"schema": {"type": "struct", "fields": []}, "payload": {"id": {{{i}}}, "name": "p{{{i}}}", "price": {{{i}}}.5, "tags": {{{(i % 2 == 0 ? "[\"a\", \"b\"]" : "null")}}}}}""")));
        await bed.ProduceAsync(rawText, Enumerable.Range(0, count).Select(i => Value($"  line {i}: héllo ✓ ")));
        await bed.ProduceAsync(rawJson, Enumerable.Range(0, count).Select(i => Value($$$"""{"n": {{{i}}}, "nested": {"ok": true}}""")));
        await bed.ProduceAsync(rawBytes, blobs.Select(b => (0, new Message<byte[]?, byte[]?> { Value = b })));

        await bed.RunInProcessAsync(() => bed.WaitForCommittedAsync(4 * count, s_catchUp), s_catchUp);

        Assert.Equal(0, await bed.ScalarAsync(
            $"SELECT count(*) FROM generate_series(0, {count - 1}) i FULL JOIN public.products p ON p.id = i " +
            "WHERE p.id IS NULL OR i IS NULL OR p.name <> 'p' || i OR p.price <> i + 0.5 " +
            "OR p.tags IS DISTINCT FROM CASE WHEN i % 2 = 0 THEN ARRAY['a', 'b'] END"));
        Assert.Equal(0, await bed.ScalarAsync(
            $"SELECT count(*) FROM generate_series(0, {count - 1}) i FULL JOIN public.raw_lines r ON r.src_offset = i " +
            "WHERE r.line IS DISTINCT FROM '  line ' || i || ': héllo ✓ '"));
        Assert.Equal(count, await bed.ScalarAsync("SELECT count(DISTINCT doc) FROM public.raw_docs WHERE doc->'nested' = '{\"ok\": true}'"));
        var stored = await bed.QueryAsync("SELECT src_offset, data FROM public.raw_blobs ORDER BY src_offset", r => r.GetFieldValue<byte[]>(1));
        Assert.Equal(blobs, stored);
    }

    private static (int, Message<byte[]?, byte[]?>) Value(string text) => (0, new Message<byte[]?, byte[]?> { Value = Encoding.UTF8.GetBytes(text) });

    /// <summary>
    /// Debezium change events for a customers table, half of them inside the JSON converter's schema/payload wrapper,
    /// each delete followed by its tombstone, and the table they describe, applied in order by this class.
    /// </summary>
    private sealed class DebeziumStream(int partitions, int seed)
    {
        private readonly Random _random = new(seed);
        private long _lsn = 1_000;

        public List<(int Partition, Message<byte[]?, byte[]?> Message)> Messages { get; } = [];

        public SortedDictionary<long, (string Name, string? Email, long Lsn)> Expected { get; } = [];

        public int Deletes { get; private set; }

        public void Snapshot(int ids)
        {
            for (long id = 0; id < ids; id++)
            {
                Emit(id, "r");
            }
        }

        public void Changes(int count, int ids)
        {
            for (var i = 0; i < count; i++)
            {
                long id = _random.Next(ids);
                Emit(id, !Expected.ContainsKey(id) ? "c" : _random.NextDouble() < 0.65 ? "u" : "d");
            }
        }

        private void Emit(long id, string op)
        {
            var lsn = _lsn++;
            var before = Expected.TryGetValue(id, out var old) ? Row(id, old.Name, old.Email) : null;
            object? after = null;
            if (op == "d")
            {
                Expected.Remove(id);
                Deletes++;
            }
            else
            {
                var row = (Name: $"customer {id} @{lsn}", Email: lsn % 4 == 0 ? null : $"c{id}@example.com", Lsn: lsn);
                Expected[id] = row;
                after = Row(id, row.Name, row.Email);
                // Postgres' default replica identity gives updates no before image.
                before = op == "u" && _random.NextDouble() < 0.5 ? null : before;
            }

            var envelope = new { before, after, source = new { connector = "postgresql", lsn, table = "customers" }, op, ts_ms = lsn };
            var wrapped = _random.NextDouble() < 0.5;
            var partition = (int)(id % partitions);
            var key = Json(wrapped ? new { schema = new { type = "struct" }, payload = new { id } } : new { id });
            Messages.Add((partition, new Message<byte[]?, byte[]?>
            {
                Key = key,
                Value = Json(wrapped ? new { schema = new { type = "struct", name = "dbserver1.inventory.customers.Envelope" }, payload = envelope } : envelope),
            }));
            if (op == "d")
            {
                // Debezium's tombstone for log compaction: same key, no value; the sink must skip it.
                Messages.Add((partition, new Message<byte[]?, byte[]?> { Key = key, Value = null }));
            }
        }

        private static object Row(long id, string name, string? email) => new { id, name, email };

        private static byte[] Json(object value) => JsonSerializer.SerializeToUtf8Bytes(value);
    }
}
