using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using NpgsqlTypes;
using SinkConnector.Configuration;
using SinkConnector.Failures;
using SinkConnector.Mapping;
using SinkConnector.Testing;
using SinkConnector.Testing.Protos;
using SinkConnector.Testing.Protos.GoogleType;
using Debezium = SinkConnector.Testing.Protos.Debezium;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>
/// encoding: protobuf through the converter: messages serialized by Google's generated classes, framed in Confluent's
/// wire format, their schemas (with a schema reference) fetched over HTTP from the registry stand-in with
/// <c>format=serialized</c>, convert into column values exactly; bad data is the message's error, an unreachable
/// registry is not.
/// </summary>
public sealed class ProtobufConversionTests : IAsyncDisposable
{
    private static readonly string[] s_tags = ["new", "gift"];
    private static readonly long[] s_counts = [3, -4];

    private readonly RegistryConversion _conversion = RegistryConversion.Start();
    private readonly ProtobufProducerSerde _producer;

    public ProtobufConversionTests() => _producer = new ProtobufProducerSerde(_conversion.Registry);

    public ValueTask DisposeAsync() => _conversion.DisposeAsync();

    private static MappingConfig ProtobufMapping(params ColumnMapping[] columns) =>
        MappingOf(columns) with { ValueEncoding = PayloadEncoding.Protobuf, KeyEncoding = PayloadEncoding.Protobuf };


    private static Order FullOrder() => new()
    {
        Id = 17,
        Body = "Ada ✓",
        U64 = ulong.MaxValue,
        S32 = -7,
        Score = 1.1f,
        Ratio = 0.1,
        Flag = true,
        Blob = ByteString.CopyFrom(0, 1, 255),
        Status = Order.Types.Status.Paid,
        Address = new Address { City = "Zürich", Zip = "8001" },
        Tags = { "new", "gift" },
        Counts = { 3, -4 },
        Attrs = { ["weight"] = 1200 },
        Phone = "+41",
        CreatedAt = new Timestamp { Seconds = 1_709_287_200, Nanos = 123_456_000 },
        Wait = new Duration { Seconds = 5400, Nanos = 250_000_000 },
        MaybeCount = 42,
        Price = ProtobufWireReaderTests.DecimalOf("-123456789005", scale: 2),
        Day = new Date { Year = 2024, Month = 2, Day = 29 },
    };

    [Fact]
    public void Every_protobuf_type_converts_exactly_into_its_column_type()
    {
        var mapping = ProtobufMapping(
            Column("id", "value.id", "bigint"),
            Column("body", "value.body", "text"),
            Column("u64", "value.u64", "numeric"),
            Column("s32", "value.s32", "integer"),
            Column("score", "value.score", "real"),
            Column("ratio", "value.ratio", "double precision"),
            Column("flag", "value.flag", "boolean"),
            Column("blob", "value.blob", "bytea"),
            Column("status", "value.status", "text"),
            Column("city", "value.address.city", "text"),
            Column("tags", "value.tags", "text[]"),
            Column("counts", "value.counts", "bigint[]"),
            Column("attrs", "value.attrs", "jsonb"),
            Column("phone", "value.phone", "text", nullable: true),
            Column("email", "value.email", "text", nullable: true),
            Column("created_at", "value.created_at", "timestamptz"),
            Column("wait", "value.wait", "interval"),
            Column("maybe_count", "value.maybe_count", "integer", nullable: true),
            Column("maybe_note", "value.maybe_note", "text", nullable: true),
            Column("price", "value.price", "numeric(14,2)"),
            Column("day", "value.day", "date"),
            Column("priority", "value.priority", "integer", nullable: true),
            Column("weight", "value.attrs.weight", "bigint"));

        var (values, error) = _conversion.Convert(mapping, MessageBytes(_producer.Value("orders", FullOrder())));

        Assert.Null(error);
        Assert.Equal(17L, values[0]);
        Assert.Equal("Ada ✓", values[1]);
        Assert.Equal("18446744073709551615", values[2]?.ToString());
        Assert.Equal(-7, values[3]);
        Assert.Equal(1.1f, values[4]);
        Assert.Equal(0.1, values[5]);
        Assert.Equal(true, values[6]);
        Assert.Equal(new byte[] { 0, 1, 255 }, values[7]);
        Assert.Equal("PAID", values[8]);
        Assert.Equal("Zürich", values[9]);
        Assert.Equal(s_tags, values[10]);
        Assert.Equal(s_counts, values[11]);
        Assert.Equal("""{"weight":1200}""", values[12]);
        Assert.Equal("+41", values[13]);
        Assert.Null(values[14]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc).AddTicks(1_234_560), values[15]);
        Assert.Equal(new NpgsqlInterval(0, 0, 5_400_250_000), values[16]);
        Assert.Equal(42, values[17]);
        Assert.Null(values[18]);
        Assert.Equal(-1234567890.05m, values[19]);
        Assert.Equal(new DateOnly(2024, 2, 29), values[20]);
        Assert.Null(values[21]);
        Assert.Equal(1200L, values[22]);
        Assert.Contains(_conversion.Registry.Requests, r => r.StartsWith("GET /schemas/ids/", StringComparison.Ordinal) && r.EndsWith("?format=serialized", StringComparison.Ordinal));
        Assert.Contains(_conversion.Registry.Requests, r => r.StartsWith("GET /subjects/shop%2Fv1%2Faddress.proto/versions/1", StringComparison.Ordinal)
            || r.StartsWith("GET /subjects/shop/v1/address.proto/versions/1", StringComparison.Ordinal));
    }

    [Fact]
    public void Protobuf_keys_feed_key_paths_and_the_whole_value_is_jsonb()
    {
        var mapping = ProtobufMapping(Column("id", "key.id", "bigint"), Column("payload", "value", "jsonb"));
        var message = MessageBytes(_producer.Value("orders", new Order { Id = 5, Priority = 0 }), _producer.Key("orders", new OrderKey { Id = 42 }));

        var (values, error) = _conversion.Convert(mapping, message);

        Assert.Null(error);
        Assert.Equal(42L, values[0]);
        using var payload = System.Text.Json.JsonDocument.Parse((string)values[1]!);
        Assert.Equal(5, payload.RootElement.GetProperty("id").GetInt64());
        Assert.Equal(0, payload.RootElement.GetProperty("priority").GetInt32());
    }

    [Fact]
    public void A_value_too_big_for_its_column_is_the_message_s_error_not_a_wrapped_number()
    {
        var (_, error) = _conversion.Convert(ProtobufMapping(Column("u64", "value.u64", "bigint")), MessageBytes(_producer.Value("orders", new Order { U64 = ulong.MaxValue })));

        Assert.NotNull(error);
    }

    [Fact]
    public void An_unknown_schema_id_a_bad_message_index_and_a_truncated_payload_are_the_message_s_errors_with_the_reason()
    {
        var mapping = ProtobufMapping(Column("id", "value.id", "bigint"));
        var valid = _producer.Value("orders", new Order { Id = 1, Body = "some text" });
        byte[] unknownId = [0, 0, 0, 0x30, 0x39, .. valid[5..]];
        byte[] badIndex = [.. valid[..5], .. ProtobufProducerSerde.Header(0, [7])[5..], .. valid[6..]];

        var (_, unknown) = _conversion.Convert(mapping, MessageBytes(unknownId));
        var (_, index) = _conversion.Convert(mapping, MessageBytes(badIndex));
        var (_, truncated) = _conversion.Convert(mapping, MessageBytes(valid[..^3]));

        Assert.Equal(ConversionErrorKind.UnknownSchema, unknown?.Kind);
        Assert.Contains("schema id 12345 is not in the schema registry", unknown!.Message, StringComparison.Ordinal);
        Assert.Equal(ConversionErrorKind.InvalidEncoding, index?.Kind);
        Assert.Contains("message index [7] is not in the schema", index!.Message, StringComparison.Ordinal);
        Assert.Equal(ConversionErrorKind.InvalidEncoding, truncated?.Kind);
        Assert.Contains("not Protobuf data of schema id", truncated!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_avro_schema_id_in_a_protobuf_mapping_is_the_message_s_error()
    {
        var avroId = _conversion.Registry.Register("other-value", """{"type": "record", "name": "R", "fields": [{"name": "id", "type": "long"}]}""");

        var (_, error) = _conversion.Convert(ProtobufMapping(Column("id", "value.id", "bigint")), MessageBytes([0, 0, 0, 0, (byte)avroId, 0, 2]));

        Assert.Equal(ConversionErrorKind.UnknownSchema, error?.Kind);
        Assert.Contains("is not a Protobuf schema the sink can read: it is a AVRO schema", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Debezium_change_events_in_protobuf_write_the_after_image_and_delete_by_the_before_image()
    {
        var mapping = MappingOf(
            MessageFormat.Debezium,
            Column("id", "value.id", "bigint"),
            Column("name", "value.name", "text"),
            Column("email", "value.email", "text", nullable: true),
            Column("lsn", "source.lsn", "bigint")) with
        {
            ValueEncoding = PayloadEncoding.Protobuf, KeyEncoding = PayloadEncoding.Protobuf, Mode = WriteMode.Upsert, Key = ["id"],
        };
        var converter = new MessageConverter(mapping, _conversion.Schemas);
        var key = _producer.Key("customers", new Debezium.Key { Id = 1 });
        var row = new Debezium.Value { Id = 1, Name = "Ada" };
        var create = _producer.Value("customers", new Debezium.Envelope { After = row, Source = new Debezium.Source { Lsn = 10 }, Op = "c" });
        var delete = _producer.Value("customers", new Debezium.Envelope { Before = row, Source = new Debezium.Source { Lsn = 11 }, Op = "d" });
        var values = new object?[4];

        Assert.Null(converter.TryConvertChange(MessageBytes(create, key), values, out var created));
        Assert.Equal((ChangeKind.Write, 1L, "Ada", null, 10L), (created, values[0], values[1], values[2], values[3]));
        Assert.Null(converter.TryConvertChange(MessageBytes(delete, key), values, out var deleted));
        Assert.Equal((ChangeKind.Delete, 1L), (deleted, values[0]));
        Assert.Equal(ChangeKind.Skip, converter.Decide(MessageBytes(null, key)));
    }

    [Fact]
    public void A_protobuf_value_s_schema_name_is_its_message_type_s_full_name()
    {
        var mapping = ProtobufMapping(Column("id", "value.id", "bigint"));
        var decoder = SinkConnector.Mapping.Encodings.PayloadDecoder.For(mapping, _conversion.Schemas)!;

        Assert.Equal("shop.v1.Order", decoder.ValueSchemaName(_producer.Value("orders", new Order())));
        Assert.Equal("shop.v1.Order.Line", decoder.ValueSchemaName(_producer.Value("orders", new Order.Types.Line())));
        Assert.Null(decoder.ValueSchemaName([0, 0, 0, 0x30, 0x39, 0]));
    }

    [Fact]
    public void An_unreachable_registry_is_transient_not_the_message_s_error()
    {
        var value = _producer.Value("orders", new Order { Id = 1 });
        var converter = new MessageConverter(ProtobufMapping(Column("id", "value.id", "bigint")), _conversion.Schemas);
        _conversion.Registry.Reachable = false;

        Assert.Throws<SchemaRegistryUnavailableException>(() => converter.TryDecode(MessageBytes(value), out _));

        _conversion.Registry.Reachable = true;
        Assert.Null(converter.TryDecode(MessageBytes(value), out _));
    }
}
