using System.Text;
using Confluent.Kafka;
using SinkConnector.Mapping;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

public class MessageConverterTests
{
    private const string OrderJson = """
        {"id": 17, "customer": {"id": "5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b", "name": "Ada"},
         "amount": 129.95, "created_at": "2024-03-01T12:00:00+02:00",
         "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}], "tags": ["new", "gift"]}
        """;

    [Fact]
    public void Design_example_mapping_converts_a_realistic_order_end_to_end()
    {
        var mapping = MappingOf(
            Column("id", "value.id", "bigint"),
            Column("customer_id", "value.customer.id", "uuid"),
            Column("amount", "value.amount", "numeric(12,2)"),
            Column("status", "value.status", "text", defaultValue: "new"),
            Column("created_at", "value.created_at", "timestamptz"),
            Column("payload", "value", "jsonb"),
            Column("src_key", "key", "text"),
            Column("trace_id", "header.trace-id", "text", nullable: true),
            Column("kafka_offset", "offset", "bigint"));
        var headers = new Headers { { "trace-id", Encoding.UTF8.GetBytes("abc-123") } };

        var (values, error) = Convert(mapping, Message(OrderJson, key: "order-17", headers: headers, offset: 42));

        Assert.Null(error);
        Assert.Equal(17L, values[0]);
        Assert.Equal(Guid.Parse("5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b"), values[1]);
        Assert.Equal(129.95m, values[2]);
        Assert.Equal("new", values[3]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc), values[4]);
        Assert.Equal(OrderJson.Trim(), values[5]);
        Assert.Equal("order-17", values[6]);
        Assert.Equal("abc-123", values[7]);
        Assert.Equal(42L, values[8]);
    }

    [Fact]
    public void Paths_index_into_arrays_and_nested_values_keep_their_raw_json()
    {
        var mapping = MappingOf(
            Column("first_sku", "value.lines[0].sku", "text"),
            Column("second_qty", "value.lines[1].qty", "smallint"),
            Column("missing_line", "value.lines[5].sku", "text", nullable: true),
            Column("customer", "value.customer", "jsonb"),
            Column("tags", "value.tags", "text[]"));

        var (values, error) = Convert(mapping, Message(OrderJson));

        Assert.Null(error);
        Assert.Equal("A-1", values[0]);
        Assert.Equal((short)1, values[1]);
        Assert.Null(values[2]);
        Assert.Equal("""{"id": "5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b", "name": "Ada"}""", values[3]);
        Assert.Equal(["new", "gift"], Assert.IsType<string[]>(values[4]));
    }

    [Fact]
    public void Missing_required_field_names_column_and_path()
    {
        var (_, error) = Convert(MappingOf(Column("status", "value.status", "text")), Message("""{"id": 1}"""));

        Assert.NotNull(error);
        Assert.Equal(ConversionErrorKind.MissingField, error.Kind);
        Assert.Equal("status", error.Column);
        Assert.Contains("value.status", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_null_counts_as_missing()
    {
        var (_, error) = Convert(MappingOf(Column("status", "value.status", "text")), Message("""{"status": null}"""));
        Assert.Equal(ConversionErrorKind.MissingField, error?.Kind);
    }

    [Fact]
    public void Defaults_fill_missing_and_null_values_converted_to_the_column_type()
    {
        var mapping = MappingOf(
            Column("qty", "value.qty", "bigint", defaultValue: "0"),
            Column("status", "value.status", "text", defaultValue: "new"),
            Column("active", "value.active", "boolean", defaultValue: "true"),
            Column("price", "value.price", "numeric(6,2)", defaultValue: "1.5"));

        var (values, error) = Convert(mapping, Message("""{"status": null}"""));

        Assert.Null(error);
        Assert.Equal(0L, values[0]);
        Assert.Equal("new", values[1]);
        Assert.Equal(true, values[2]);
        Assert.Equal(1.50m, values[3]);
    }

    [Fact]
    public void A_present_value_wins_over_the_default()
    {
        var (values, error) = Convert(MappingOf(Column("qty", "value.qty", "bigint", defaultValue: "0")), Message("""{"qty": 3}"""));
        Assert.Null(error);
        Assert.Equal(3L, values[0]);
    }

    [Fact]
    public void Nullable_columns_are_null_when_missing()
    {
        var (values, error) = Convert(MappingOf(Column("note", "value.note", "text", nullable: true)), Message("{}"));
        Assert.Null(error);
        Assert.Null(values[0]);
    }

    [Fact]
    public void Unconvertible_default_fails_the_constructor()
    {
        var mapping = MappingOf(Column("qty", "value.qty", "bigint", defaultValue: "lots"));
        var e = Assert.Throws<ArgumentException>(() => new MessageConverter(mapping));
        Assert.Contains("qty", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"id\": ")]
    [InlineData("not json")]
    [InlineData("")]
    public void Invalid_json_value_is_invalid_json(string value)
    {
        var (_, error) = Convert(MappingOf(Column("id", "value.id", "bigint")), Message(value));
        Assert.Equal(ConversionErrorKind.InvalidJson, error?.Kind);
    }

    [Fact]
    public void Invalid_utf8_is_invalid_json()
    {
        var bytes = new byte[] { (byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}' };
        var (_, error) = Convert(MappingOf(Column("a", "value.a", "text")), MessageBytes(bytes));
        Assert.Equal(ConversionErrorKind.InvalidJson, error?.Kind);
    }

    [Fact]
    public void Invalid_json_does_not_matter_when_no_column_parses_it()
    {
        var mapping = MappingOf(Column("raw", "value", "bytea"), Column("offset", "offset", "bigint"));
        var (values, error) = Convert(mapping, Message("{broken"));
        Assert.Null(error);
        Assert.Equal(Encoding.UTF8.GetBytes("{broken"), values[0]);
    }

    [Fact]
    public void Wrong_json_type_is_wrong_type()
    {
        var (_, error) = Convert(MappingOf(Column("id", "value.id", "bigint")), Message("""{"id": {"n": 1}}"""));
        Assert.Equal(ConversionErrorKind.WrongType, error?.Kind);
        Assert.Equal("id", error?.Column);
    }

    [Fact]
    public void Plain_text_keys_are_not_parsed_as_json()
    {
        var mapping = MappingOf(Column("k", "key", "text"), Column("id", "value.id", "bigint"));
        var (values, error) = Convert(mapping, Message("""{"id": 1}""", key: "order-17"));
        Assert.Null(error);
        Assert.Equal("order-17", values[0]);
    }

    [Theory]
    [InlineData("\"order-17\"", "order-17")]
    [InlineData("{\"id\": 17}", "{\"id\": 17}")]
    [InlineData("17", "17")]
    [InlineData("\"unterminated", "\"unterminated")]
    public void Whole_key_as_text_unquotes_json_strings_and_keeps_everything_else(string key, string expected)
    {
        var (values, error) = Convert(MappingOf(Column("k", "key", "text")), Message("{}", key: key));
        Assert.Null(error);
        Assert.Equal(expected, values[0]);
    }

    [Theory]
    [InlineData("17")]
    [InlineData("\"17\"")]
    [InlineData(" 17 ")]
    public void Whole_key_into_a_number_accepts_plain_or_json_text(string key)
    {
        var (values, error) = Convert(MappingOf(Column("k", "key", "bigint")), Message("{}", key: key));
        Assert.Null(error);
        Assert.Equal(17L, values[0]);
    }

    [Fact]
    public void Plain_uuid_key()
    {
        var (values, error) = Convert(MappingOf(Column("k", "key", "uuid")), Message("{}", key: "5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b"));
        Assert.Null(error);
        Assert.Equal(Guid.Parse("5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b"), values[0]);
    }

    [Fact]
    public void Key_paths_parse_the_key_as_json()
    {
        var mapping = MappingOf(Column("id", "key.id", "bigint"));
        var (values, error) = Convert(mapping, Message("{}", key: """{"id": 99}"""));
        Assert.Null(error);
        Assert.Equal(99L, values[0]);

        (_, error) = Convert(mapping, Message("{}", key: "order-17"));
        Assert.Equal(ConversionErrorKind.InvalidJson, error?.Kind);
    }

    [Fact]
    public void Invalid_utf8_key_as_text_is_an_error()
    {
        var (_, error) = Convert(MappingOf(Column("k", "key", "text")), MessageBytes(Encoding.UTF8.GetBytes("{}"), key: [0xFF, 0xFE]));
        Assert.Equal(ConversionErrorKind.InvalidJson, error?.Kind);
    }

    [Fact]
    public void Whole_value_as_text_or_bytea()
    {
        var mapping = MappingOf(Column("t", "value", "text"), Column("b", "value", "bytea"));
        var (values, error) = Convert(mapping, Message("hello world"));
        Assert.Null(error);
        Assert.Equal("hello world", values[0]);
        Assert.Equal(Encoding.UTF8.GetBytes("hello world"), values[1]);

        (values, error) = Convert(mapping, Message("\"quoted\""));
        Assert.Null(error);
        Assert.Equal("quoted", values[0]);
    }

    [Fact]
    public void Null_key_into_a_nullable_column_is_null()
    {
        var (values, error) = Convert(MappingOf(Column("k", "key", "text", nullable: true)), Message("{}"));
        Assert.Null(error);
        Assert.Null(values[0]);
    }

    [Fact]
    public void Headers_use_the_last_value_and_convert_from_text()
    {
        var headers = new Headers
        {
            { "attempt", Encoding.UTF8.GetBytes("1") },
            { "attempt", Encoding.UTF8.GetBytes("17") },
            { "sent", Encoding.UTF8.GetBytes("2024-03-01T10:00:00Z") },
            { "blob", new byte[] { 0, 1, 2 } },
        };
        var mapping = MappingOf(
            Column("attempt", "header.attempt", "bigint"),
            Column("sent", "header.sent", "timestamptz"),
            Column("blob", "header.blob", "bytea"),
            Column("absent", "header.absent", "text", nullable: true));

        var (values, error) = Convert(mapping, Message("{}", headers: headers));

        Assert.Null(error);
        Assert.Equal(17L, values[0]);
        Assert.Equal(new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Utc), values[1]);
        Assert.Equal(new byte[] { 0, 1, 2 }, values[2]);
        Assert.Null(values[3]);
    }

    [Fact]
    public void Header_that_does_not_convert_is_wrong_type()
    {
        var headers = new Headers { { "attempt", Encoding.UTF8.GetBytes("first") } };
        var (_, error) = Convert(MappingOf(Column("attempt", "header.attempt", "bigint")), Message("{}", headers: headers));
        Assert.Equal(ConversionErrorKind.WrongType, error?.Kind);
    }

    [Fact]
    public void Kafka_metadata_columns()
    {
        var mapping = MappingOf(
            Column("topic", "topic", "text"),
            Column("partition", "partition", "integer"),
            Column("offset", "offset", "bigint"),
            Column("ts", "timestamp", "timestamptz"),
            Column("ts_ms", "timestamp", "bigint"),
            Column("ts_text", "timestamp", "text"),
            Column("ts_plain", "timestamp", "timestamp"));

        var (values, error) = Convert(mapping, Message("{}", topic: "orders.v1", partition: 3, offset: 123456789012));

        Assert.Null(error);
        Assert.Equal("orders.v1", values[0]);
        Assert.Equal(3, values[1]);
        Assert.Equal(123456789012L, values[2]);
        var ts = Assert.IsType<DateTime>(values[3]);
        Assert.Equal(DefaultTimestamp, ts);
        Assert.Equal(DateTimeKind.Utc, ts.Kind);
        Assert.Equal(1709287200000L, values[4]);
        Assert.Equal("2024-03-01T10:00:00.000Z", values[5]);
        Assert.Equal(DateTimeKind.Unspecified, Assert.IsType<DateTime>(values[6]).Kind);
    }

    [Fact]
    public void Offset_that_does_not_fit_the_column_is_out_of_range()
    {
        var (_, error) = Convert(MappingOf(Column("offset", "offset", "integer")), Message("{}", offset: 5_000_000_000));
        Assert.Equal(ConversionErrorKind.OutOfRange, error?.Kind);
    }

    [Fact]
    public void Missing_message_timestamp_is_null()
    {
        var (values, error) = Convert(
            MappingOf(Column("ts", "timestamp", "timestamptz", nullable: true)),
            Message("{}", timestamp: Timestamp.Default));
        Assert.Null(error);
        Assert.Null(values[0]);
    }

    [Fact]
    public void Values_array_too_short_is_a_programming_error()
    {
        var converter = new MessageConverter(MappingOf(Column("a", "value.a", "text"), Column("b", "value.b", "text")));
        Assert.Throws<ArgumentException>(() => { converter.TryConvert(Message("{}"), new object?[1]); });
    }

    [Fact]
    public void Row_size_counts_key_value_and_headers()
    {
        var headers = new Headers { { "trace-id", new byte[3] } };
        var message = MessageBytes(new byte[100], key: new byte[10], headers: headers);
        Assert.Equal(100 + 10 + "trace-id".Length + 3, RowSize.EstimateBytes(message));
        Assert.Equal(0, RowSize.EstimateBytes(MessageBytes(null)));
    }

    [Fact]
    public void Converter_is_reusable_across_messages()
    {
        var converter = new MessageConverter(MappingOf(Column("id", "value.id", "bigint")));
        var values = new object?[1];
        for (var i = 0; i < 100; i++)
        {
            Assert.Null(converter.TryConvert(Message($$"""{"id": {{i}}}"""), values));
            Assert.Equal((long)i, values[0]);
        }
    }
}
