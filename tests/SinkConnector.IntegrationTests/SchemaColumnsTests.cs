using System.Buffers.Binary;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Mappings whose columns come from the registry's schemas, through the real <c>sink</c> process: tables created from
/// a Debezium Avro schema, columns added when a producer registers a schema with a new optional field, and changes
/// the table cannot take dead-lettered with the field and both schema ids.
/// </summary>
public sealed class SchemaColumnsTests(TestServices services, AvroRegistryFixture avro) : IClassFixture<AvroRegistryFixture>
{
    private const string ReadingV1 = """
        {"type": "record", "name": "Reading", "namespace": "it", "fields": [
          {"name": "id", "type": "long"}, {"name": "body", "type": "string"}, {"name": "amount", "type": "double"}]}
        """;

    // v2 adds an optional field; v3 changes a type; v4 adds a required field without a default.
    private static readonly RecordSchema s_v1 = (RecordSchema)Avro.Schema.Parse(ReadingV1);
    private static readonly RecordSchema s_v2 = WithFields(ReadingV1, """{"name": "amount", "type": "double"}, {"name": "note", "type": ["null", "string"], "default": null}""");
    private static readonly RecordSchema s_v3 = WithFields(ReadingV1, """{"name": "amount", "type": "string"}""");
    private static readonly RecordSchema s_v4 = WithFields(ReadingV1, """{"name": "amount", "type": "double"}, {"name": "extra", "type": "long"}""");
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    private readonly SchemaRegistryStandIn _registry = avro.Registry;
    private readonly AvroProducerSerde _producer = avro.Producer;

    [Fact]
    public async Task A_debezium_avro_mapping_without_columns_creates_its_table_from_the_schemas_and_upserts_by_the_key_schema()
    {
        const int partitions = 2;
        var seed = Random.Shared.Next();
        await using var bed = await SinkTestBed.CreateAsync(services, "schema_cols_dbz", partitions);
        await bed.EnableSchemaRegistryAsync(_registry.Url);
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: inventory.customers
            format: debezium
            encoding: avro
            mode: upsert
            auto_create: true
            on_error: fail
            """);
        var stream = new DebeziumAvroStream(partitions, seed);
        stream.Changes(count: 400, ids: 60);
        var messages = await stream.EncodeAsync(_producer, bed.Topic);
        await bed.ProduceAsync(bed.Topic, messages);

        var (planExit, plan) = await SinkProcess.RunToEndAsync(["tables", "plan", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(planExit == 0, plan);
        Assert.True(plan.Contains(
            "CREATE TABLE \"inventory\".\"customers\" (\"id\" bigint NOT NULL, \"name\" text NOT NULL, \"email\" text, \"balance\" numeric(10,2) NOT NULL, " +
            "\"updated_at\" timestamp without time zone NOT NULL, \"birthday\" date, PRIMARY KEY (\"id\"));", StringComparison.Ordinal), plan);
        Assert.Contains("-- columns from schema id", plan, StringComparison.Ordinal);

        await bed.RunToCompletionAsync(messages.Count);

        var actual = await bed.QueryAsync(
            "SELECT id, name, email, balance, updated_at, birthday FROM inventory.customers ORDER BY id",
            r => (r.GetInt64(0), new DebeziumAvroStream.Row(
                r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetDecimal(3), r.GetDateTime(4),
                r.IsDBNull(5) ? null : r.GetFieldValue<DateOnly>(5), 0)));
        Assert.Equal(stream.Expected.Select(e => (e.Key, e.Value with { Lsn = 0 })), actual);
        Assert.True(stream.Deletes > 0, $"seed {seed}: the stream should delete rows");
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));

        var (validateExit, validate) = await SinkProcess.RunToEndAsync(["validate", "--config", bed.ConfigDirectory], bed.Environment);
        Assert.True(validateExit == 0, validate);
        Assert.Contains("columns from schema id", validate, StringComparison.Ordinal);
        Assert.Contains("balance: { from: value.balance, type: numeric(10,2) }", validate, StringComparison.Ordinal);
        Assert.Contains("email: { from: value.email, type: text, nullable: true }", validate, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schema_version_adding_an_optional_field_mid_stream_adds_its_column_and_both_versions_are_written_exactly_once()
    {
        const int partitions = 2;
        await using var bed = await SinkTestBed.CreateAsync(services, "schema_cols_evolve", partitions);
        await bed.EnableSchemaRegistryAsync(_registry.Url);
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: public.readings
            format: avro
            auto_create: true
            auto_evolve: true
            on_error: dead_letter
            columns_from_schema: true
            columns:
              src_offset:    { from: offset, type: bigint }
              src_partition: { from: partition, type: integer }
            """);
        await bed.ProduceAsync(bed.Topic, await ReadingsAsync(bed.Topic, s_v1, 0, 300, partitions));
        var firstOutput = "";
        using (var sink = bed.StartSink())
        {
            await bed.WaitForCommittedAsync(300, s_catchUp, () => sink.Output);
            // A newer producer (v2), an older one still running (v1), and two schemas the table cannot take, registered
            // elsewhere (a registry checking compatibility would refuse them under this subject).
            var later = await ReadingsAsync(bed.Topic, s_v2, 300, 300, partitions);
            later.AddRange(await ReadingsAsync(bed.Topic, s_v1, 600, 100, partitions));
            later.Insert(150, (0, await ReadingAsync(bed.Topic + "-elsewhere", s_v3, 1_000)));
            later.Insert(350, (1, await ReadingAsync(bed.Topic + "-elsewhere", s_v4, 1_001)));
            await bed.ProduceAsync(bed.Topic, later);
            await bed.WaitForCommittedAsync(400, s_catchUp, () => sink.Output);
            sink.Signal(SinkProcess.SIGKILL);
            await sink.WaitForExitAsync(TimeSpan.FromSeconds(10));
            firstOutput = sink.Output;
        }

        await bed.RunToCompletionAsync(702);

        var letters = await bed.QueryAsync(
            "SELECT error_kind, error_message FROM sink.dead_letters ORDER BY error_message", r => (r.GetString(0), r.GetString(1)));
        var rows = await bed.ScalarAsync("SELECT count(*) FROM public.readings");
        Assert.True(rows == 700, $"{rows} rows; dead letters: {string.Join("; ", letters)}\n{firstOutput}");
        Assert.Equal(700, await bed.ScalarAsync("SELECT count(DISTINCT id) FROM public.readings WHERE id BETWEEN 0 AND 699"));
        Assert.Equal(700, await bed.ScalarAsync("SELECT count(DISTINCT (src_partition, src_offset)) FROM public.readings"));
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM public.readings WHERE body <> 'reading ' || id OR amount <> id + 0.5"));
        Assert.Equal(300, await bed.ScalarAsync("SELECT count(*) FROM public.readings WHERE note = 'n' || id AND id BETWEEN 300 AND 599"));
        Assert.Equal(400, await bed.ScalarAsync("SELECT count(*) FROM public.readings WHERE note IS NULL"));
        Assert.Equal(702, await bed.ScalarAsync($"SELECT sum(next_offset) FROM sink.offsets WHERE group_id = '{bed.GroupId}'"));

        Assert.Equal(["IncompatibleSchema", "IncompatibleSchema"], letters.Select(l => l.Item1));
        var v3 = SchemaId(await ReadingAsync(bed.Topic + "-elsewhere", s_v3, 1_000));
        var v4 = SchemaId(await ReadingAsync(bed.Topic + "-elsewhere", s_v4, 1_001));
        Assert.Contains(letters, l => l.Item2.Contains("field 'amount' is double precision in the table's schema id", StringComparison.Ordinal)
            && l.Item2.Contains($"and text in the message's schema id {v3}", StringComparison.Ordinal));
        Assert.Contains(letters, l => l.Item2.Contains($"field 'extra' is new in the message's schema id {v4} and required", StringComparison.Ordinal)
            && l.Item2.Contains("the table's schema id", StringComparison.Ordinal));
    }

    private static RecordSchema WithFields(string schema, string lastFields) =>
        (RecordSchema)Avro.Schema.Parse(schema.Replace("""{"name": "amount", "type": "double"}""", lastFields, StringComparison.Ordinal));

    private static int SchemaId(Message<byte[]?, byte[]?> message) => BinaryPrimitives.ReadInt32BigEndian(message.Value.AsSpan(1, 4));

    /// <summary>Reading i: body "reading i", amount i + 0.5 (text for v3), note "ni" where the schema has it, extra 7.</summary>
    private async Task<Message<byte[]?, byte[]?>> ReadingAsync(string subjectTopic, RecordSchema schema, long id)
    {
        var record = new GenericRecord(schema);
        record.Add("id", id);
        record.Add("body", $"reading {id}");
        record.Add("amount", schema["amount"].Schema.Tag == Avro.Schema.Type.String ? $"{id}.5" : id + 0.5);
        if (schema.TryGetField("note", out _))
        {
            record.Add("note", $"n{id}");
        }

        if (schema.TryGetField("extra", out _))
        {
            record.Add("extra", 7L);
        }

        return new Message<byte[]?, byte[]?> { Value = await _producer.ValueAsync(subjectTopic, record) };
    }

    private async Task<List<(int, Message<byte[]?, byte[]?>)>> ReadingsAsync(string topic, RecordSchema schema, int from, int count, int partitions)
    {
        var messages = new List<(int, Message<byte[]?, byte[]?>)>();
        for (var id = from; id < from + count; id++)
        {
            messages.Add((id % partitions, await ReadingAsync(topic, schema, id)));
        }

        return messages;
    }
}
