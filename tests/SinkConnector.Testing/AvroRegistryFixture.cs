using Xunit;

namespace SinkConnector.Testing;

/// <summary>
/// A registry stand-in and Confluent's Avro serializer against it, for a test class that produces Avro
/// (<c>IClassFixture&lt;AvroRegistryFixture&gt;</c>): one registry per class. Tests do not collide in it: each writes
/// its own topic, so its own subjects, and reads schema ids from the messages it made.
/// </summary>
public sealed class AvroRegistryFixture : IAsyncLifetime
{
    private SchemaRegistryStandIn? _registry;
    private AvroProducerSerde? _producer;

    public SchemaRegistryStandIn Registry => _registry ?? throw new InvalidOperationException("not initialized");

    public AvroProducerSerde Producer => _producer ?? throw new InvalidOperationException("not initialized");

    public ValueTask InitializeAsync()
    {
        _registry = SchemaRegistryStandIn.Start();
        _producer = new AvroProducerSerde(_registry.Url);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _producer?.Dispose();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }
}
