using System.Numerics;
using System.Text.Json;
using Avro;
using Avro.Generic;
using Confluent.Kafka;
using SinkConnector.Configuration;
using SinkConnector.Failures;
using SinkConnector.Mapping;
using SinkConnector.Testing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>
/// Avro values written by Confluent's AvroSerializer (registered in the registry stand-in, over HTTP) convert into
/// column values exactly: every Avro type and logical type the sink maps, through both JSON paths of the converter.
/// </summary>
public sealed class AvroConversionTests : IAsyncDisposable
{
    private const string OrderSchema = """
        {"type": "record", "name": "Order", "namespace": "shop", "fields": [
          {"name": "id", "type": "long"},
          {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [
            {"name": "name", "type": "string"},
            {"name": "email", "type": ["null", "string"], "default": null}]}},
          {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]}},
          {"name": "tags", "type": {"type": "array", "items": "string"}},
          {"name": "attrs", "type": {"type": "map", "values": "long"}},
          {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
          {"name": "big", "type": {"type": "fixed", "name": "Big", "size": 16, "logicalType": "decimal", "precision": 30, "scale": 10}},
          {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
          {"name": "updated_at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
          {"name": "local_at", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
          {"name": "day", "type": {"type": "int", "logicalType": "date"}},
          {"name": "at_millis", "type": {"type": "int", "logicalType": "time-millis"}},
          {"name": "at_micros", "type": {"type": "long", "logicalType": "time-micros"}},
          {"name": "ref", "type": {"type": "string", "logicalType": "uuid"}},
          {"name": "ratio", "type": "double"},
          {"name": "score", "type": "float"},
          {"name": "flag", "type": "boolean"},
          {"name": "blob", "type": "bytes"},
          {"name": "note", "type": ["null", "string"], "default": null}
        ]}
        """;

    private static readonly RecordSchema s_order = (RecordSchema)Avro.Schema.Parse(OrderSchema);
    private static readonly string[] s_tags = ["new", "gift"];
    private static readonly Guid s_ref = Guid.Parse("5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b");

    private readonly RegistryConversion _conversion = RegistryConversion.Start();
    private readonly AvroProducerSerde _producer;

    public AvroConversionTests() => _producer = new AvroProducerSerde(_conversion.Registry.Url);

    public async ValueTask DisposeAsync()
    {
        _producer.Dispose();
        await _conversion.DisposeAsync();
    }

    private static MappingConfig AvroMapping(params ColumnMapping[] columns) =>
        MappingOf(columns) with { ValueEncoding = PayloadEncoding.Avro, KeyEncoding = PayloadEncoding.Avro };

    private static GenericRecord Order(long id, string? email, decimal amount)
    {
        var customer = new GenericRecord((RecordSchema)s_order["customer"].Schema);
        customer.Add("name", "Ada Lovelace ✓");
        customer.Add("email", email);
        var record = new GenericRecord(s_order);
        record.Add("id", id);
        record.Add("customer", customer);
        record.Add("status", new GenericEnum((EnumSchema)s_order["status"].Schema, "PAID"));
        record.Add("tags", new object[] { "new", "gift" });
        record.Add("attrs", new Dictionary<string, object> { ["weight"] = 1200L });
        record.Add("amount", new AvroDecimal(new BigInteger(amount * 100), 2));
        record.Add("big", new AvroDecimal(BigInteger.Parse("123456789012345670123456789", System.Globalization.CultureInfo.InvariantCulture), 10));
        record.Add("created_at", new DateTime(2024, 3, 1, 10, 0, 0, 123, DateTimeKind.Utc));
        record.Add("updated_at", new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc).AddTicks(1_234_560));
        record.Add("local_at", new DateTime(2024, 3, 1, 12, 0, 0, DateTimeKind.Utc).AddTicks(6_543_210));
        record.Add("day", new DateTime(2024, 2, 29, 0, 0, 0, DateTimeKind.Utc));
        record.Add("at_millis", new TimeSpan(0, 13, 14, 15, 678));
        record.Add("at_micros", TimeSpan.FromTicks(TimeSpan.TicksPerDay - 10));
        record.Add("ref", s_ref);
        record.Add("ratio", 0.1);
        record.Add("score", 1.1f);
        record.Add("flag", true);
        record.Add("blob", new byte[] { 0, 1, 255 });
        record.Add("note", null);
        return record;
    }


    [Fact]
    public async Task Every_avro_type_and_logical_type_converts_exactly_into_its_column_type()
    {
        var mapping = AvroMapping(
            Column("id", "value.id", "bigint"),
            Column("name", "value.customer.name", "text"),
            Column("email", "value.customer.email", "text", nullable: true),
            Column("status", "value.status", "text"),
            Column("tags", "value.tags", "text[]"),
            Column("attrs", "value.attrs", "jsonb"),
            Column("amount", "value.amount", "numeric(12,2)"),
            Column("big", "value.big", "numeric(30,10)"),
            Column("created_at", "value.created_at", "timestamptz"),
            Column("updated_at", "value.updated_at", "timestamptz"),
            Column("local_at", "value.local_at", "timestamp"),
            Column("day", "value.day", "date"),
            Column("at_millis", "value.at_millis", "time"),
            Column("at_micros", "value.at_micros", "time"),
            Column("ref", "value.ref", "uuid"),
            Column("ratio", "value.ratio", "double precision"),
            Column("score", "value.score", "real"),
            Column("flag", "value.flag", "boolean"),
            Column("blob", "value.blob", "bytea"),
            Column("note", "value.note", "text", nullable: true),
            Column("amount_text", "value.amount", "text"));
        var value = await _producer.ValueAsync("orders", Order(17, email: null, amount: -1234567890.05m));

        var (values, error) = _conversion.Convert(mapping, MessageBytes(value));

        Assert.Null(error);
        Assert.Equal(17L, values[0]);
        Assert.Equal("Ada Lovelace ✓", values[1]);
        Assert.Null(values[2]);
        Assert.Equal("PAID", values[3]);
        Assert.Equal(s_tags, values[4]);
        Assert.Equal("""{"weight":1200}""", values[5]);
        Assert.Equal(-1234567890.05m, values[6]);
        Assert.Equal(12345678901234567.0123456789m, values[7]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, 123, DateTimeKind.Utc), values[8]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc).AddTicks(1_234_560), values[9]);
        Assert.Equal(new DateTime(2024, 3, 1, 12, 0, 0).AddTicks(6_543_210), values[10]);
        Assert.Equal(new DateOnly(2024, 2, 29), values[11]);
        Assert.Equal(new TimeOnly(13, 14, 15, 678), values[12]);
        Assert.Equal(new TimeOnly(TimeSpan.TicksPerDay - 10), values[13]);
        Assert.Equal(s_ref, values[14]);
        Assert.Equal(0.1, values[15]);
        Assert.Equal(1.1f, values[16]);
        Assert.Equal(true, values[17]);
        Assert.Equal(new byte[] { 0, 1, 255 }, values[18]);
        Assert.Null(values[19]);
        Assert.Equal("-1234567890.05", values[20]);
    }

    [Fact]
    public async Task A_nullable_union_with_a_value_and_the_whole_value_as_jsonb_keep_their_content()
    {
        var mapping = AvroMapping(
            Column("email", "value.customer.email", "text", nullable: true),
            Column("payload", "value", "jsonb"));
        var value = await _producer.ValueAsync("orders", Order(18, email: "ada@example.com", amount: 0.05m));

        var (values, error) = _conversion.Convert(mapping, MessageBytes(value));

        Assert.Null(error);
        Assert.Equal("ada@example.com", values[0]);
        using var payload = JsonDocument.Parse((string)values[1]!);
        Assert.Equal(18, payload.RootElement.GetProperty("id").GetInt64());
        Assert.Equal("0.05", payload.RootElement.GetProperty("amount").GetRawText());
        Assert.Equal("2024-03-01T10:00:00.123Z", payload.RootElement.GetProperty("created_at").GetString());
    }

    [Fact]
    public async Task Avro_keys_feed_key_paths_and_a_primitive_key_the_whole_key()
    {
        var keySchema = (RecordSchema)Avro.Schema.Parse("""{"type": "record", "name": "OrderKey", "fields": [{"name": "id", "type": "long"}]}""");
        var key = new GenericRecord(keySchema);
        key.Add("id", 42L);
        var mapping = AvroMapping(Column("id", "key.id", "bigint"), Column("amount", "value.amount", "numeric(12,2)"));
        var stringKeyed = AvroMapping(Column("k", "key", "text")) with { Topics = ["other"] };
        var value = await _producer.ValueAsync("orders", Order(42, null, 9.99m));

        var (values, error) = _conversion.Convert(mapping, MessageBytes(value, await _producer.KeyAsync("orders", key)));
        var (stringValues, stringError) = _conversion.Convert(stringKeyed, MessageBytes(value, await _producer.KeyAsync("other", "order-42")));

        Assert.Null(error);
        Assert.Equal(42L, values[0]);
        Assert.Equal(9.99m, values[1]);
        Assert.Null(stringError);
        Assert.Equal("order-42", stringValues[0]);
    }

    [Fact]
    public void An_unknown_schema_id_is_the_message_s_error_naming_the_id()
    {
        var mapping = AvroMapping(Column("id", "value.id", "bigint"));

        var (_, error) = _conversion.Convert(mapping, MessageBytes([0, 0, 0, 0x30, 0x39, 2]));

        Assert.Equal(ConversionErrorKind.UnknownSchema, error?.Kind);
        Assert.Contains("schema id 12345 is not in the schema registry", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_of_messages_with_an_unknown_schema_id_asks_the_registry_once_per_retention_period()
    {
        var converter = new MessageConverter(AvroMapping(Column("id", "value.id", "bigint")), _conversion.Schemas);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(ConversionErrorKind.UnknownSchema, converter.TryDecode(MessageBytes([0, 0, 0, 0, 77, 2]), out _)?.Kind);
        }

        Assert.Single(_conversion.Registry.Requests, r => r.StartsWith("GET /schemas/ids/77", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new byte[] { 0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x31, 0x7D }, "not the schema registry wire format's magic byte 0")]
    [InlineData(new byte[] { 0, 0, 0 }, "too short for the schema registry wire format")]
    public void Bytes_not_in_the_wire_format_are_the_message_s_error(byte[] value, string reason)
    {
        var (_, error) = _conversion.Convert(AvroMapping(Column("id", "value.id", "bigint")), MessageBytes(value));

        Assert.Equal(ConversionErrorKind.InvalidEncoding, error?.Kind);
        Assert.Contains(reason, error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payload_that_does_not_match_its_schema_is_the_message_s_error()
    {
        var value = await _producer.ValueAsync("orders", Order(1, null, 1m));
        var truncated = value[..^4];
        var padded = value.Concat(new byte[] { 2, 2 }).ToArray();
        var mapping = AvroMapping(Column("id", "value.id", "bigint"));

        var (_, shortError) = _conversion.Convert(mapping, MessageBytes(truncated));
        var (_, longError) = _conversion.Convert(mapping, MessageBytes(padded));

        Assert.Equal(ConversionErrorKind.InvalidEncoding, shortError?.Kind);
        Assert.Contains("not Avro data of schema id", shortError!.Message, StringComparison.Ordinal);
        Assert.Equal(ConversionErrorKind.InvalidEncoding, longError?.Kind);
        Assert.Contains("2 bytes are left after the value", longError!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_schema_id_is_fetched_from_the_registry_once()
    {
        var mapping = AvroMapping(Column("id", "value.id", "bigint"));
        var converter = new MessageConverter(mapping, _conversion.Schemas);
        var values = new object?[1];
        for (var i = 0; i < 50; i++)
        {
            var message = MessageBytes(await _producer.ValueAsync("orders", Order(i, null, i)));
            Assert.Null(converter.TryDecode(message, out var decoded) ?? converter.TryConvert(decoded, values));
            Assert.Equal((long)i, values[0]);
        }

        Assert.Single(_conversion.Registry.Requests, r => r.StartsWith("GET /schemas/ids/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unreachable_registry_throws_the_transient_failure_instead_of_failing_the_message()
    {
        var value = await _producer.ValueAsync("orders", Order(1, null, 1m));
        _conversion.Registry.Reachable = false;
        var converter = new MessageConverter(AvroMapping(Column("id", "value.id", "bigint")), _conversion.Schemas);

        var e = Assert.Throws<SchemaRegistryUnavailableException>(() => converter.TryDecode(MessageBytes(value), out _));

        Assert.Contains("did not answer for schema id 1", e.Message, StringComparison.Ordinal);
        _conversion.Registry.Reachable = true;
        Assert.Null(converter.TryDecode(MessageBytes(value), out _));
    }

    [Fact]
    public async Task A_registry_that_refuses_the_request_throws_the_transient_failure_naming_the_status_instead_of_failing_every_message()
    {
        var value = await _producer.ValueAsync("orders", Order(1, null, 1m));
        _conversion.Registry.RefuseWith = System.Net.HttpStatusCode.Unauthorized;
        var converter = new MessageConverter(AvroMapping(Column("id", "value.id", "bigint")), _conversion.Schemas);

        var e = Assert.Throws<SchemaRegistryUnavailableException>(() => converter.TryDecode(MessageBytes(value), out _));

        Assert.Contains("refused the request for schema id 1 (HTTP 401", e.Message, StringComparison.Ordinal);
        _conversion.Registry.RefuseWith = null;
        Assert.Null(converter.TryDecode(MessageBytes(value), out _));
    }
}
