using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;

namespace SinkConnector.Testing;

/// <summary>Encodes objects as a producer does with Confluent's JSON Schema serializer: schema registered from the type, wire format header, JSON.</summary>
public sealed class JsonSchemaProducerSerde<T> : IDisposable
    where T : class
{
    private readonly CachedSchemaRegistryClient _client;
    private readonly JsonSerializer<T> _serializer;

    public JsonSchemaProducerSerde(string registryUrl)
    {
        _client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registryUrl });
        _serializer = new JsonSerializer<T>(_client, new JsonSerializerConfig { AutoRegisterSchemas = true });
    }

    public Task<byte[]> ValueAsync(string topic, T value) => _serializer.SerializeAsync(value, new SerializationContext(MessageComponentType.Value, topic));

    /// <summary>As a key: its schema goes under the topic's key subject (<c>&lt;topic&gt;-key</c>).</summary>
    public Task<byte[]> KeyAsync(string topic, T key) => _serializer.SerializeAsync(key, new SerializationContext(MessageComponentType.Key, topic));

    public void Dispose() => _client.Dispose();
}
