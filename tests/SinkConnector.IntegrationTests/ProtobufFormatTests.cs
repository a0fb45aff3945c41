using Confluent.Kafka;
using SinkConnector.Testing;
using SinkConnector.Testing.Protos;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// encoding: protobuf through the real <c>sink</c> process: messages serialized by Google's generated classes and
/// framed in Confluent's wire format, their schema (a file with several message types and a schema reference) in the
/// registry stand-in, written exactly once across a SIGKILL; poison payloads become dead letters with the reason.
/// </summary>
public sealed class ProtobufFormatTests(TestServices services) : IAsyncLifetime
{
    private SchemaRegistryStandIn _registry = null!;
    private ProtobufProducerSerde _producer = null!;

    public ValueTask InitializeAsync()
    {
        _registry = SchemaRegistryStandIn.Start();
        _producer = new ProtobufProducerSerde(_registry);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _registry.DisposeAsync();

    /// <summary>The bed's events mapping with Protobuf values and keys, and the key's id in a column of its own.</summary>
    private static string ProtobufEventsMapping(string topic, string onError = "fail") =>
        SinkTestBed.EventsMapping(topic, onError).Replace("format: json", "format: json\nencoding: protobuf", StringComparison.Ordinal)
        + "\n  key_id:        { from: key.id, type: bigint }\n";

    /// <summary>Event i as the bed's JSON events are (id, "event i", "i.25"): shop.v1.Event (message index [2]) keyed by shop.v1.OrderKey ([1]).</summary>
    private List<(int, Message<byte[]?, byte[]?>)> Events(string topic, int count, int partitions) =>
        [.. Enumerable.Range(0, count).Select(id => ((int)(id % partitions), new Message<byte[]?, byte[]?>
        {
            Key = _producer.Key(topic, new OrderKey { Id = id }),
            Value = _producer.Value(topic, new Event { Id = id, Body = $"event {id}", Amount = $"{id}.25" }),
        }))];

    [Fact]
    public async Task Protobuf_values_and_keys_are_written_exactly_once_across_a_sigkill()
    {
        const int count = 2_000;
        const int partitions = 2;
        var seed = Random.Shared.Next();
        await using var bed = await SinkTestBed.CreateAsync(services, "protobuf_kill", partitions);
        await bed.EnableSchemaRegistryAsync(_registry.Url);
        await bed.ExecuteAsync("ALTER TABLE public.events ADD COLUMN key_id bigint");
        await bed.WriteMappingAsync("events.yaml", ProtobufEventsMapping(bed.Topic));
        await bed.ProduceAsync(bed.Topic, Events(bed.Topic, count, partitions));

        await bed.RunAndKillAsync(new Random(seed));
        await bed.RunToCompletionAsync(count);

        await bed.AssertExactlyOnceAsync(count);
        Assert.Equal(0, await bed.ScalarAsync("SELECT count(*) FROM public.events WHERE key_id IS DISTINCT FROM id"));
        Assert.Contains(_registry.Requests, r => r.EndsWith("?format=serialized", StringComparison.Ordinal));
        Assert.Empty(_registry.Unrouted);
    }

    [Fact]
    public async Task Unknown_schema_ids_bad_message_indexes_and_truncated_payloads_become_dead_letters_with_the_reason()
    {
        const int count = 300;
        await using var bed = await SinkTestBed.CreateAsync(services, "protobuf_poison", partitions: 1);
        await bed.EnableSchemaRegistryAsync(_registry.Url);
        await bed.ExecuteAsync("ALTER TABLE public.events ADD COLUMN key_id bigint");
        await bed.WriteMappingAsync("events.yaml", ProtobufEventsMapping(bed.Topic, onError: "dead_letter"));
        var messages = Events(bed.Topic, count, partitions: 1);
        var valid = messages[0].Item2;
        byte[] value = valid.Value!;
        messages.Insert(50, (0, new Message<byte[]?, byte[]?> { Key = valid.Key, Value = [0, 0, 0, 0x30, 0x39, .. value[5..]] }));
        messages.Insert(100, (0, new Message<byte[]?, byte[]?> { Key = valid.Key, Value = [.. value[..5], .. ProtobufProducerSerde.Header(0, [9])[5..], .. value[7..]] }));
        messages.Insert(150, (0, new Message<byte[]?, byte[]?> { Key = valid.Key, Value = [.. value[..^2]] }));
        await bed.ProduceAsync(bed.Topic, messages);

        await bed.RunToCompletionAsync(count + 3);

        Assert.Equal(count, await bed.RowCountAsync());
        await bed.AssertDeadLettersAsync(
            (50, "UnknownSchema", "schema id 12345 is not in the schema registry"),
            (100, "InvalidEncoding", "message index [9] is not in the schema"),
            (150, "InvalidEncoding", "not Protobuf data of schema id"));
    }
}
