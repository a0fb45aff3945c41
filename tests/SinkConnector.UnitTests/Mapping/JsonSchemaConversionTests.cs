using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.Registry;
using SinkConnector.Testing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>format: json_schema: values from Confluent's JSON Schema serializer convert as JSON once the wire header is checked.</summary>
public sealed class JsonSchemaConversionTests : IAsyncLifetime
{
    private SchemaRegistryStandIn _registry = null!;
    private JsonSchemaProducerSerde<Order> _producer = null!;
    private SchemaSource _schemas = null!;

    public ValueTask InitializeAsync()
    {
        _registry = SchemaRegistryStandIn.Start();
        _producer = new JsonSchemaProducerSerde<Order>(_registry.Url);
        _schemas = SchemaRegistryClients.Create(new SchemaRegistrySettings { Urls = [_registry.Url] });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        Assert.Empty(_registry.Unrouted);
        _schemas.Dispose();
        _producer.Dispose();
        await _registry.DisposeAsync();
    }

    /// <summary>What the producer serializes (public for the serializer's schema generator).</summary>
    public sealed class Order
    {
        public long Id { get; set; }

        public string Name { get; set; } = "";

        public decimal Amount { get; set; }

        public DateTimeOffset CreatedAt { get; set; }
    }

    private static MappingConfig JsonSchemaMapping(params ColumnMapping[] columns) =>
        MappingOf(columns) with { ValueEncoding = PayloadEncoding.JsonSchema, KeyEncoding = PayloadEncoding.JsonSchema };

    [Fact]
    public async Task A_json_schema_value_converts_like_json_after_its_registry_header()
    {
        var mapping = JsonSchemaMapping(
            Column("id", "value.Id", "bigint"),
            Column("name", "value.Name", "text"),
            Column("amount", "value.Amount", "numeric(12,2)"),
            Column("created_at", "value.CreatedAt", "timestamptz"));
        var value = await _producer.ValueAsync("orders", new Order { Id = 7, Name = "Ada", Amount = 12.34m, CreatedAt = new DateTimeOffset(2024, 3, 1, 12, 0, 0, TimeSpan.FromHours(2)) });
        var converter = new MessageConverter(mapping, _schemas);
        var values = new object?[4];

        var error = converter.TryDecode(MessageBytes(value), out var decoded) ?? converter.TryConvert(decoded, values);

        Assert.Null(error);
        Assert.Equal(7L, values[0]);
        Assert.Equal("Ada", values[1]);
        Assert.Equal(12.34m, values[2]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc), values[3]);
    }

    [Fact]
    public void A_json_schema_value_with_an_unknown_schema_id_is_the_message_s_error()
    {
        var converter = new MessageConverter(JsonSchemaMapping(Column("id", "value.Id", "bigint")), _schemas);

        var error = converter.TryDecode(MessageBytes([0, 0, 0, 0, 99, .. "{\"Id\": 1}"u8]), out _);

        Assert.Equal(ConversionErrorKind.UnknownSchema, error?.Kind);
        Assert.Contains("schema id 99 is not in the schema registry", error!.Message, StringComparison.Ordinal);
    }
}
