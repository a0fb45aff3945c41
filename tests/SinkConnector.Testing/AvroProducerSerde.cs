using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;

namespace SinkConnector.Testing;

/// <summary>
/// Encodes Avro generic records the way a producer does, with Confluent's own AvroSerializer against a registry (the
/// stand-in): it registers each schema under the topic's subject (TopicNameStrategy, unless another
/// <see cref="SubjectNameStrategy"/> is given, e.g. TopicRecord for several record types on one topic) and writes the wire format.
/// </summary>
public sealed class AvroProducerSerde : IDisposable
{
    private readonly CachedSchemaRegistryClient _client;
    private readonly AvroSerializer<GenericRecord> _records;
    private readonly AvroSerializer<string> _strings;
    private readonly AvroSerializer<long> _longs;

    public AvroProducerSerde(string registryUrl, SubjectNameStrategy subjects = SubjectNameStrategy.Topic)
    {
        _client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registryUrl });
        var config = new AvroSerializerConfig { AutoRegisterSchemas = true, SubjectNameStrategy = subjects };
        _records = new AvroSerializer<GenericRecord>(_client, config);
        _strings = new AvroSerializer<string>(_client, config);
        _longs = new AvroSerializer<long>(_client, config);
    }

    public Task<byte[]> ValueAsync(string topic, GenericRecord record) => _records.SerializeAsync(record, new SerializationContext(MessageComponentType.Value, topic));

    public Task<byte[]> KeyAsync(string topic, GenericRecord record) => _records.SerializeAsync(record, new SerializationContext(MessageComponentType.Key, topic));

    public Task<byte[]> KeyAsync(string topic, string key) => _strings.SerializeAsync(key, new SerializationContext(MessageComponentType.Key, topic));

    public Task<byte[]> KeyAsync(string topic, long key) => _longs.SerializeAsync(key, new SerializationContext(MessageComponentType.Key, topic));

    public void Dispose() => _client.Dispose();
}
