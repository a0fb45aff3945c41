using Confluent.Kafka;
using SinkConnector.Mapping;
using SinkConnector.PgBinary;
using SinkConnector.Writing;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>Columns computed by the sink: constants, concat(...) and now().</summary>
public class ComputedColumnTests
{
    [Fact]
    public void A_constant_is_converted_once_to_the_column_type_and_given_to_every_row()
    {
        var mapping = MappingOf(Column("channel", "'web'", "text"), Column("qty", "'42'", "integer"), Column("day", "'2026-12-03'", "date"));

        var (values, error) = Convert(mapping, Message("{}"));

        Assert.Null(error);
        Assert.Equal(["web", 42, new DateOnly(2026, 12, 3)], values);
    }

    [Fact]
    public void Concat_joins_the_text_of_keys_values_headers_and_constants_then_converts_it()
    {
        var mapping = MappingOf(
            Column("id", "concat(key.region, '-', key.id)", "text"),
            Column("label", "concat(value.name, ' #', offset, ' via ', header.src)", "varchar(40)"),
            Column("number", "concat(value.a, value.b)", "bigint"));
        var headers = new Headers { { "src", "app"u8.ToArray() } };

        var (values, error) = Convert(mapping, Message("""{"name": "Ann", "a": 12, "b": "34"}""", key: """{"region": "eu", "id": 17}""", headers: headers, offset: 9));

        Assert.Null(error);
        Assert.Equal(["eu-17", "Ann #9 via app", 1234L], values);
    }

    [Fact]
    public void Concat_with_a_missing_argument_is_null_so_a_required_column_fails_and_a_default_or_nullable_applies()
    {
        var required = MappingOf(Column("id", "concat(key.region, '-', key.id)", "text"));
        var (_, error) = Convert(required, Message("{}", key: """{"id": 17}"""));
        Assert.Equal(ConversionErrorKind.MissingField, error!.Kind);
        Assert.Contains("'concat(key.region, '-', key.id)' is missing or null, and column 'id' is required", error.Message, StringComparison.Ordinal);

        var (values, none) = Convert(MappingOf(Column("id", "concat(key.region, '-', key.id)", "text", defaultValue: "unknown")), Message("{}", key: """{"id": 17}"""));
        Assert.Null(none);
        Assert.Equal(["unknown"], values);
    }

    [Fact]
    public void Concat_whose_text_does_not_fit_the_column_type_is_the_message_error()
    {
        var (_, error) = Convert(MappingOf(Column("n", "concat(value.a, 'x')", "bigint")), Message("""{"a": 1}"""));

        Assert.NotNull(error);
        Assert.Equal("n", error.Column);
    }

    [Fact]
    public void Now_has_no_value_at_conversion_and_is_left_out_of_the_encoded_tuple_for_the_writer_to_append()
    {
        var mapping = MappingOf(Column("id", "value.id", "bigint"), Column("at", "now()", "timestamptz"), Column("note", "'x'", "text"));
        var converter = new MessageConverter(mapping);
        var message = Message("""{"id": 5}""");

        var values = new object?[3];
        Assert.Null(converter.TryConvert(message, values));
        Assert.Equal([5L, null, "x"], values);

        var tuple = new CopyBuffer();
        Assert.Null(converter.TryEncode(message, tuple, new object?[3], []));
        // The field count says three; the fields are id and note: COPY names "at" last and RowCopier appends it.
        var expected = new CopyBuffer();
        CopyRowEncoder.WriteFieldCount(expected, 3);
        CopyRowEncoder.WriteField(expected, 5L, ColumnType.Parse("bigint"));
        CopyRowEncoder.WriteField(expected, "x", ColumnType.Parse("text"));
        Assert.Equal(expected.WrittenMemory.ToArray(), tuple.WrittenMemory.ToArray());
        Assert.Equal([0, 2, 1], RowCopier.CopyOrder(mapping));
    }
}
