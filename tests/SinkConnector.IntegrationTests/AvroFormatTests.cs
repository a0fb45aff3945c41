using Avro;
using Avro.Generic;
using Confluent.Kafka;
using SinkConnector.Testing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// Avro through the real <c>sink</c> process: messages encoded by Confluent's AvroSerializer against the schema registry
/// stand-in, consumed from Kafka and written exactly once; Debezium change events in Avro; poison messages; an outage.
/// </summary>
public sealed class AvroFormatTests(TestServices services, AvroRegistryFixture avro) : IClassFixture<AvroRegistryFixture>
{
    private const string EventSchema = """
        {"type": "record", "name": "Event", "namespace": "it", "fields": [
          {"name": "id", "type": "long"}, {"name": "body", "type": "string"}, {"name": "amount", "type": "string"}]}
        """;

    private static readonly RecordSchema s_event = (RecordSchema)Avro.Schema.Parse(EventSchema);
    private static readonly TimeSpan s_catchUp = TimeSpan.FromMinutes(3);

    private readonly SchemaRegistryStandIn _registry = avro.Registry;
    private readonly AvroProducerSerde _producer = avro.Producer;

    /// <summary>The bed's events mapping (public.events, exactly-once columns) reading Avro values.</summary>
    private static string AvroEventsMapping(string topic, string onError = "fail") =>
        SinkTestBed.EventsMapping(topic, onError).Replace("format: json", "format: avro", StringComparison.Ordinal);

    /// <summary>Event i as the bed's JSON events are (id, "event i", "i.25"), encoded as Avro with <paramref name="schema"/>.</summary>
    private async Task<(int, Message<byte[]?, byte[]?>)> EventAsync(string topic, long id, int partitions, RecordSchema? schema = null)
    {
        var record = new GenericRecord(schema ?? s_event);
        record.Add("id", id);
        record.Add("body", $"event {id}");
        record.Add("amount", $"{id}.25");
        foreach (var extra in (schema ?? s_event).Fields.Skip(3))
        {
            record.Add(extra.Name, null);
        }

        return ((int)(id % partitions), new Message<byte[]?, byte[]?> { Value = await _producer.ValueAsync(topic, record) });
    }

    private async Task<List<(int, Message<byte[]?, byte[]?>)>> EventsAsync(string topic, int from, int count, int partitions, RecordSchema? schema = null)
    {
        var messages = new List<(int, Message<byte[]?, byte[]?>)>();
        for (var id = from; id < from + count; id++)
        {
            messages.Add(await EventAsync(topic, id, partitions, schema));
        }

        return messages;
    }

    [Fact]
    public async Task Avro_events_from_the_confluent_serializer_are_written_exactly_once_across_sigkills()
    {
        const int count = 6_000;
        const int partitions = 3;
        var seed = Random.Shared.Next();
        await using var bed = await SinkTestBed.CreateAsync(services, "avro_kill", partitions);
        await bed.EnableSchemaRegistryAsync(_registry.Url);
        await bed.WriteMappingAsync("events.yaml", AvroEventsMapping(bed.Topic));
        // In waves, so that every kill lands while there is something left to consume.
        const int waves = 3;
        var random = new Random(seed);
        for (var wave = 0; wave < waves; wave++)
        {
            await bed.ProduceAsync(bed.Topic, await EventsAsync(bed.Topic, wave * count / waves, count / waves, partitions));
            await bed.RunAndKillAsync(random);
        }

        await bed.RunToCompletionAsync(count);
        await bed.AssertExactlyOnceAsync(count);
        Assert.Empty(_registry.Unrouted);
    }

    [Fact]
    public async Task Debezium_avro_changes_with_avro_keys_end_as_applied_in_order_with_deletes_and_tombstones()
    {
        const int partitions = 2;
        var seed = Random.Shared.Next();
        await using var bed = await SinkTestBed.CreateAsync(services, "debezium_avro", partitions);
        await bed.EnableSchemaRegistryAsync(_registry.Url);
        await bed.WriteMappingAsync("events.yaml", $$"""
            topic: {{bed.Topic}}
            table: inventory.customers
            format: debezium
            encoding: avro
            mode: upsert
            key: [id]
            auto_create: true
            on_error: fail
            columns:
              id:         { from: value.id, type: bigint }
              name:       { from: value.name, type: text }
              email:      { from: value.email, type: text, nullable: true }
              balance:    { from: value.balance, type: "numeric(10,2)" }
              updated_at: { from: value.updated_at, type: timestamp }
              birthday:   { from: value.birthday, type: date, nullable: true }
              lsn:        { from: source.lsn, type: bigint }
            """);
        var stream = new DebeziumAvroStream(partitions, seed);
        stream.Changes(count: 1_500, ids: 150);
        var messages = await stream.EncodeAsync(_producer, bed.Topic);
        await bed.ProduceAsync(bed.Topic, messages);

        await bed.RunAndKillAsync(new Random(seed));
        await bed.RunToCompletionAsync(messages.Count);

        var actual = await bed.QueryAsync(
            "SELECT id, name, email, balance, updated_at, birthday, lsn FROM inventory.customers ORDER BY id",
            r => (r.GetInt64(0), new DebeziumAvroStream.Row(
                r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetDecimal(3), r.GetDateTime(4),
                r.IsDBNull(5) ? null : r.GetFieldValue<DateOnly>(5), r.GetInt64(6))));
        Assert.Equal(stream.Expected.Select(e => (e.Key, e.Value)), actual);
        Assert.True(stream.Deletes > 0, $"seed {seed}: the stream should delete rows");
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
    }

    [Fact]
    public async Task Unknown_schema_ids_and_undecodable_values_become_dead_letters_with_the_reason_and_the_rest_is_written()
    {
        const int count = 500;
        await using var bed = await SinkTestBed.CreateAsync(services, "avro_poison", partitions: 1);
        await bed.EnableSchemaRegistryAsync(_registry.Url);
        await bed.WriteMappingAsync("events.yaml", AvroEventsMapping(bed.Topic, onError: "dead_letter"));
        var messages = await EventsAsync(bed.Topic, 0, count, partitions: 1);
        var valid = messages[0].Item2.Value!;
        messages.Insert(100, (0, new Message<byte[]?, byte[]?> { Value = [0, 0, 0, 0x30, 0x39, .. valid[5..]] }));
        messages.Insert(200, (0, new Message<byte[]?, byte[]?> { Value = "{\"id\": 1}"u8.ToArray() }));
        messages.Insert(300, (0, new Message<byte[]?, byte[]?> { Value = valid[..^3] }));
        await bed.ProduceAsync(bed.Topic, messages);

        await bed.RunToCompletionAsync(count + 3);

        Assert.Equal(count, await bed.RowCountAsync());
        await bed.AssertDeadLettersAsync(
            (100, "UnknownSchema", "schema id 12345 is not in the schema registry"),
            (200, "InvalidEncoding", "magic byte 0"),
            (300, "InvalidEncoding", "not Avro data of schema id"));
    }

    [Fact]
    public async Task A_registry_outage_mid_stream_holds_the_batch_and_resumes_with_nothing_lost_or_duplicated()
    {
        const int half = 2_000;
        const int partitions = 2;
        await using var bed = await SinkTestBed.CreateAsync(services, "avro_outage", partitions);
        await bed.EnableSchemaRegistryAsync(_registry.Url);
        await bed.WriteMappingAsync("events.yaml", AvroEventsMapping(bed.Topic));
        // The second half is written with a newer schema version (an added optional field): a schema id the sink has
        // not fetched yet when the registry goes away.
        var evolved = (RecordSchema)Avro.Schema.Parse(EventSchema.Replace(
            """{"name": "amount", "type": "string"}]}""",
            """{"name": "amount", "type": "string"}, {"name": "note", "type": ["null", "string"], "default": null}]}""",
            StringComparison.Ordinal));
        var secondHalf = await EventsAsync(bed.Topic, half, half, partitions, evolved);
        await bed.ProduceAsync(bed.Topic, await EventsAsync(bed.Topic, 0, half, partitions));

        using var sink = bed.StartSink();
        await bed.WaitForCommittedAsync(half, s_catchUp, () => sink.Output);
        _registry.Reachable = false;
        await bed.ProduceAsync(bed.Topic, secondHalf);
        await sink.WaitForOutputAsync("Converting a batch failed, retrying", s_catchUp);
        await Task.Delay(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal(half, await bed.CommittedAsync());
        Assert.False(sink.HasExited, sink.Output);

        _registry.Reachable = true;
        await bed.WaitForCommittedAsync(2 * half, s_catchUp, () => sink.Output);
        sink.Signal(SinkProcess.SIGTERM);
        await sink.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(sink.ExitCode == 0, sink.Output);
        Assert.Equal(half, await bed.ScalarAsync($"SELECT count(*) FROM public.events WHERE payload ? 'note' AND id >= {half}"));
        // Apart from the evolved schema's added field, every row is the event produced.
        await bed.ExecuteAsync("UPDATE public.events SET payload = payload - 'note'");
        await bed.AssertExactlyOnceAsync(2 * half);
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM sink.dead_letters"));
    }
}
