using System.Text;
using SinkConnector.Configuration;
using SinkConnector.Mapping;
using SinkConnector.Mapping.Conversion;
using static SinkConnector.UnitTests.Mapping.ConverterKit;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>
/// The single-pass reader (JsonFieldIndex + converters reading tokens in place) against the JsonDocument path.
/// ConverterKit.Convert runs both and asserts the same values and errors, so each case here is an equivalence check.
/// </summary>
public class SinglePassReaderTests
{
    private static readonly ColumnMapping[] s_columns =
    [
        Column("id", "value.id", "bigint", nullable: true),
        Column("customer_id", "value.customer.id", "uuid", nullable: true),
        Column("customer", "value.customer", "jsonb", nullable: true),
        Column("amount", "value.amount", "numeric(12,2)", nullable: true),
        Column("rate", "value.rate", "double precision", nullable: true),
        Column("paid", "value.paid", "boolean", nullable: true),
        Column("note", "value.note", "text", nullable: true),
        Column("at", "value.at", "timestamptz", nullable: true),
        Column("day", "value.day", "date", nullable: true),
        Column("tags", "value.tags", "text[]", nullable: true),
        Column("kafka_offset", "offset", "bigint"),
    ];

    [Fact]
    public void Json_mappings_with_property_paths_are_read_without_a_document()
    {
        Assert.True(new MessageConverter(MappingOf(s_columns)).ReadsValueInOnePass);
        Assert.False(new MessageConverter(MappingOf(Column("sku", "value.lines[0].sku", "text"))).ReadsValueInOnePass);
        Assert.False(new MessageConverter(MappingOf(MessageFormat.ConnectJson, Column("id", "value.id", "bigint"))).ReadsValueInOnePass);
        Assert.False(new MessageConverter(MappingOf(Column("k", "key", "text"))).ReadsValueInOnePass);
        // The whole value as jsonb needs the document anyway; the fields are read from it rather than in a second pass.
        Assert.False(new MessageConverter(MappingOf(Column("id", "value.id", "bigint"), Column("payload", "value", "jsonb"))).ReadsValueInOnePass);
        Assert.False(new MessageConverter(MappingOf(s_columns), singlePass: false).ReadsValueInOnePass);
    }

    [Theory]
    [InlineData("""{"id": 1, "customer": {"id": "5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b"}, "note": "x"}""", true)]
    [InlineData("""{"other": [1, {"id": 2}], "id": 1}""", true)]
    [InlineData("""  {"id": 1}  """, true)]
    [InlineData("""{"id": 1} x""", false)]
    [InlineData("""{"id": 1""", false)]
    [InlineData("""[{"id": 1}]""", false)]
    [InlineData("""17""", false)]
    [InlineData("""{"id": 1, }""", false)]
    public void Locating_fields_needs_one_whole_json_object(string json, bool located)
    {
        var index = JsonFieldIndex.TryCreate([.. s_columns.Select(c => new ColumnPlan(c, MessageFormat.Json))], MessageFormat.Json)!;
        var starts = new int[s_columns.Length];
        Assert.Equal(located, index.TryLocate(Encoding.UTF8.GetBytes(json), starts));
    }

    [Fact]
    public void Invalid_utf8_is_left_to_the_document_path()
    {
        var index = JsonFieldIndex.TryCreate([new ColumnPlan(s_columns[6], MessageFormat.Json)], MessageFormat.Json)!;
        Assert.False(index.TryLocate([.. "{\"note\": \""u8, 0xC3, 0x28, .. "\"}"u8], new int[1]));
        var (_, error) = Convert(MappingOf(s_columns), MessageBytes([.. "{\"note\": \""u8, 0xC3, 0x28, .. "\"}"u8]));
        Assert.Equal(ConversionErrorKind.InvalidJson, error?.Kind);
    }

    [Fact]
    public void The_last_of_duplicate_properties_wins_and_forgets_what_the_earlier_one_held()
    {
        var (values, error) = Convert(MappingOf(s_columns), Message("""
            {"id": 1, "id": 2, "customer": {"id": "5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b"}, "customer": {"name": "Ada"}}
            """));

        Assert.Null(error);
        Assert.Equal(2L, values[0]);
        Assert.Null(values[1]);
        Assert.Equal("""{"name": "Ada"}""", values[2]);
    }

    [Theory]
    [InlineData("""{"\u0069d": 5, "n\u006fte": "a\"b\\c\u00e9\n"}""")]
    [InlineData("""{"id": "42", "amount": "12.345", "rate": "NaN", "paid": "TRUE"}""")]
    [InlineData("""{"id": 5.0, "amount": 1e2, "rate": 1e400}""")]
    [InlineData("""{"id": 9223372036854775808}""")]
    [InlineData("""{"id": true}""")]
    [InlineData("""{"id": {"nested": 1}}""")]
    [InlineData("""{"customer": 5}""")]
    [InlineData("""{"customer": null, "id": null}""")]
    [InlineData("""{"customer": {"id": "{5B6F2A7E-3C1D-4E8F-9A0B-1C2D3E4F5A6B}"}}""")]
    [InlineData("""{"customer": {"id": "5b6f2a7e\u002d3c1d-4e8f-9a0b-1c2d3e4f5a6b"}}""")]
    [InlineData("""{"customer": {"id": "5b6f2a7e3c1d4e8f9a0b1c2d3e4f5a6b"}}""")]
    [InlineData("""{"customer": {"id": "not-a-uuid"}}""")]
    [InlineData("""{"customer": {"id": 17}}""")]
    [InlineData("""{"at": 1709287200000, "day": "2024-03-01"}""")]
    [InlineData("""{"at": "2024-03-01T12:00:00.123456789+02:00"}""")]
    [InlineData("""{"at": 1.5}""")]
    [InlineData("""{"note": 12.50, "paid": false}""")]
    [InlineData("""{"note": "nul\u0000"}""")]
    [InlineData("""{"tags": ["a", "b"], "customer": {"id": "5b6f2a7e-3c1d-4e8f-9a0b-1c2d3e4f5a6b", "x": [1, {"y": 2}]}}""")]
    [InlineData("""{"tags": "not an array"}""")]
    [InlineData("""{"amount": 12345678901.5}""")]
    [InlineData("""{"id": 1} trailing""")]
    [InlineData("""[1, 2]""")]
    [InlineData("""null""")]
    [InlineData("""{}""")]
    public void Single_pass_and_document_give_the_same_values_and_errors(string json)
    {
        Convert(MappingOf(s_columns), Message(json));
    }

    [Fact]
    public void A_byte_order_mark_is_skipped_on_both_paths()
    {
        var (values, error) = Convert(MappingOf(s_columns), MessageBytes([0xEF, 0xBB, 0xBF, .. "{\"id\": 3}"u8]));
        Assert.Null(error);
        Assert.Equal(3L, values[0]);
    }
}
