using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.Registry;
using SinkConnector.Testing;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>
/// What the registry-encoding conversion tests share: the registry stand-in, the sink's client of it, and
/// <see cref="Convert"/> through both paths of the converter (single pass and decode-then-convert), which must agree.
/// </summary>
internal sealed class RegistryConversion : IAsyncDisposable
{
    private RegistryConversion(SchemaRegistryStandIn registry)
    {
        Registry = registry;
        Schemas = SchemaRegistryClients.Create(new SchemaRegistrySettings { Urls = [registry.Url], RequestTimeout = TimeSpan.FromSeconds(2) });
    }

    public SchemaRegistryStandIn Registry { get; }

    public SchemaSource Schemas { get; }

    public static RegistryConversion Start() => new(SchemaRegistryStandIn.Start());

    /// <summary>The column values (or the message's error) the same on both paths of the converter.</summary>
    public (object?[] Values, ConversionError? Error) Convert(MappingConfig mapping, ConsumeResult<byte[]?, byte[]?> message)
    {
        var results = new List<(object?[], ConversionError?)>();
        foreach (var singlePass in new[] { true, false })
        {
            var converter = new MessageConverter(mapping, singlePass, Schemas);
            var values = new object?[mapping.Columns.Count];
            var error = converter.TryDecode(message, out var decoded) ?? converter.TryConvert(decoded, values);
            results.Add((values, error));
        }

        Assert.Equal(results[0].Item2, results[1].Item2);
        if (results[0].Item2 is null)
        {
            Assert.Equal(results[0].Item1, results[1].Item1);
        }

        return results[0];
    }

    public async ValueTask DisposeAsync()
    {
        // Whatever the serializers and the client called, the stand-in implements.
        Assert.Empty(Registry.Unrouted);
        Schemas.Dispose();
        await Registry.DisposeAsync();
    }
}
