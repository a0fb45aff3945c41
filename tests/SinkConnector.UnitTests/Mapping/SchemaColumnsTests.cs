using SinkConnector.Configuration;
using SinkConnector.Mapping.SchemaColumns;
using SinkConnector.PgBinary;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>Columns from Avro schemas: each field's column type, Debezium row images, overrides and keys, and schema evolution verdicts.</summary>
public sealed class SchemaColumnsTests
{
    private static string Record(params string[] fields) =>
        $$"""{"type": "record", "name": "Row", "namespace": "t", "fields": [{{string.Join(", ", fields)}}]}""";

    private static string Field(string name, string type) => $$"""{"name": "{{name}}", "type": {{type}}}""";

    [Theory]
    [InlineData("\"long\"", "bigint", false)]
    [InlineData("\"int\"", "integer", false)]
    [InlineData("\"string\"", "text", false)]
    [InlineData("\"boolean\"", "boolean", false)]
    [InlineData("\"float\"", "real", false)]
    [InlineData("\"double\"", "double precision", false)]
    [InlineData("\"bytes\"", "bytea", false)]
    [InlineData("{\"type\": \"fixed\", \"name\": \"F\", \"size\": 4}", "bytea", false)]
    [InlineData("{\"type\": \"bytes\", \"logicalType\": \"decimal\", \"precision\": 12, \"scale\": 2}", "numeric(12,2)", false)]
    [InlineData("{\"type\": \"long\", \"logicalType\": \"timestamp-millis\"}", "timestamptz", false)]
    [InlineData("{\"type\": \"long\", \"logicalType\": \"timestamp-micros\"}", "timestamptz", false)]
    [InlineData("{\"type\": \"long\", \"logicalType\": \"local-timestamp-micros\"}", "timestamp", false)]
    [InlineData("{\"type\": \"int\", \"logicalType\": \"date\"}", "date", false)]
    [InlineData("{\"type\": \"int\", \"logicalType\": \"time-millis\"}", "time", false)]
    [InlineData("{\"type\": \"long\", \"logicalType\": \"time-micros\"}", "time", false)]
    [InlineData("{\"type\": \"string\", \"logicalType\": \"uuid\"}", "uuid", false)]
    [InlineData("{\"type\": \"enum\", \"name\": \"E\", \"symbols\": [\"A\", \"B\"]}", "text", false)]
    [InlineData("{\"type\": \"array\", \"items\": \"long\"}", "bigint[]", false)]
    [InlineData("{\"type\": \"array\", \"items\": \"string\"}", "text[]", false)]
    [InlineData("{\"type\": \"array\", \"items\": {\"type\": \"map\", \"values\": \"long\"}}", "jsonb", false)]
    [InlineData("{\"type\": \"map\", \"values\": \"string\"}", "jsonb", false)]
    [InlineData("{\"type\": \"record\", \"name\": \"Inner\", \"fields\": [{\"name\": \"a\", \"type\": \"int\"}]}", "jsonb", false)]
    [InlineData("[\"null\", \"string\"]", "text", true)]
    [InlineData("[\"null\", \"long\", \"string\"]", "jsonb", true)]
    [InlineData("{\"type\": \"int\", \"connect.name\": \"io.debezium.time.Date\"}", "date", false)]
    [InlineData("{\"type\": \"long\", \"connect.name\": \"io.debezium.time.MicroTimestamp\"}", "timestamp", false)]
    [InlineData("{\"type\": \"long\", \"connect.name\": \"io.debezium.time.MicroTime\"}", "time", false)]
    [InlineData("{\"type\": \"string\", \"connect.name\": \"io.debezium.time.ZonedTimestamp\"}", "timestamptz", false)]
    [InlineData("{\"type\": \"long\", \"connect.name\": \"org.apache.kafka.connect.data.Timestamp\"}", "timestamptz", false)]
    [InlineData("{\"type\": \"bytes\", \"connect.name\": \"org.apache.kafka.connect.data.Decimal\", \"connect.parameters\": {\"scale\": \"3\", \"connect.decimal.precision\": \"9\"}}", "numeric(9,3)", false)]
    [InlineData("{\"type\": \"record\", \"name\": \"V\", \"connect.name\": \"io.debezium.data.VariableScaleDecimal\", \"fields\": [{\"name\": \"scale\", \"type\": \"int\"}, {\"name\": \"value\", \"type\": \"bytes\"}]}", "numeric", false)]
    [InlineData("{\"type\": \"string\", \"connect.name\": \"io.debezium.data.Uuid\"}", "uuid", false)]
    [InlineData("{\"type\": \"string\", \"connect.name\": \"io.debezium.data.Json\"}", "jsonb", false)]
    public void Each_avro_type_becomes_the_column_type_its_decoded_value_converts_into(string avroType, string columnType, bool nullable)
    {
        var field = Assert.Single(SchemaFields.Of(Record(Field("f", avroType)), MessageFormat.Json));

        Assert.Equal(ColumnType.Parse(columnType), field.Type);
        Assert.Equal(nullable, field.Nullable);
    }

    [Fact]
    public void A_debezium_envelope_gives_the_fields_of_its_row_image()
    {
        var envelope = $$"""
            {"type": "record", "name": "Envelope", "namespace": "db", "fields": [
              {"name": "before", "type": ["null", {{Record(Field("id", "\"long\""), Field("email", "[\"null\", \"string\"]"))}}], "default": null},
              {"name": "after", "type": ["null", "t.Row"], "default": null},
              {"name": "op", "type": "string"}]}
            """;

        var fields = SchemaFields.Of(envelope, MessageFormat.Debezium);

        Assert.Equal(["id", "email"], fields.Select(f => f.Name));
        Assert.Equal([false, true], fields.Select(f => f.Nullable));
    }

    [Fact]
    public void A_schema_that_is_not_a_record_gives_no_columns_and_says_so()
    {
        var error = Assert.Throws<FormatException>(() => SchemaFields.Of("\"string\"", MessageFormat.Json));
        Assert.Contains("record schema", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Derived_columns_follow_the_schema_with_overrides_in_place_and_the_key_schema_as_upsert_key_never_nullable()
    {
        var fields = SchemaFields.Of(Record(Field("id", "[\"null\", \"long\"]"), Field("name", "\"string\""), Field("note", "[\"null\", \"string\"]")), MessageFormat.Json);
        var keyFields = SchemaFields.Of(Record(Field("id", "\"long\"")), MessageFormat.Json);
        var mapping = Mapping(WriteMode.Upsert, [new ColumnMapping("name", Path("value.name"), ColumnType.Parse("varchar(20)"), false, null),
            new ColumnMapping("src_offset", Path("offset"), ColumnType.Parse("bigint"), false, null)]);

        var derived = SchemaColumnDerivation.Derive(mapping, fields, keyFields, new SchemaColumnSource("orders-value", 7, new HashSet<string>()));

        Assert.Equal(["id", "name", "note", "src_offset"], derived.Columns.Select(c => c.Name));
        Assert.Equal(["bigint", "character varying(20)", "text", "bigint"], derived.Columns.Select(c => c.Type.SqlName));
        Assert.Equal([false, false, true, false], derived.Columns.Select(c => c.Nullable));
        Assert.Equal(["id"], derived.Key);
        Assert.Equal(7, derived.SchemaColumns!.SchemaId);
        Assert.Equal(["id", "note"], derived.SchemaColumns.Derived.Order());
    }

    [Fact]
    public void A_newer_schema_with_an_optional_field_is_an_addition_and_type_changes_removed_or_new_required_fields_are_incompatible_naming_both_ids()
    {
        var table = SchemaColumnDerivation.Derive(Mapping(WriteMode.Insert, []),
            SchemaFields.Of(Record(Field("id", "\"long\""), Field("amount", "\"double\""), Field("note", "[\"null\", \"string\"]")), MessageFormat.Json),
            [], new SchemaColumnSource("r-value", 1, new HashSet<string>()));

        var added = SchemaEvolution.Compare(table, SchemaFields.Of(Record(Field("id", "\"long\""), Field("amount", "\"double\""),
            Field("tag", "[\"null\", \"string\"]"), Field("level", "{\"type\": \"int\"}, \"default\": 3")), MessageFormat.Json), 2);
        Assert.Null(added.Incompatible);
        Assert.Equal(["tag", "level"], added.Added.Select(f => f.Name));
        Assert.Equal("3", added.Added[1].Default);

        var optionalRemoved = SchemaEvolution.Compare(table, SchemaFields.Of(Record(Field("id", "\"long\""), Field("amount", "\"double\"")), MessageFormat.Json), 3);
        Assert.Null(optionalRemoved.Incompatible);

        var typeChanged = SchemaEvolution.Compare(table, SchemaFields.Of(Record(Field("id", "\"long\""), Field("amount", "\"string\"")), MessageFormat.Json), 4);
        Assert.Equal("amount", typeChanged.Field);
        Assert.Contains("field 'amount' is double precision in the table's schema id 1 and text in the message's schema id 4", typeChanged.Incompatible, StringComparison.Ordinal);

        var requiredRemoved = SchemaEvolution.Compare(table, SchemaFields.Of(Record(Field("id", "\"long\"")), MessageFormat.Json), 5);
        Assert.Contains("field 'amount' is required by the table's schema id 1", requiredRemoved.Incompatible, StringComparison.Ordinal);
        Assert.Contains("the message's schema id 5 removed it", requiredRemoved.Incompatible, StringComparison.Ordinal);

        var requiredAdded = SchemaEvolution.Compare(table, SchemaFields.Of(Record(Field("id", "\"long\""), Field("amount", "\"double\""), Field("extra", "\"long\"")), MessageFormat.Json), 6);
        Assert.Contains("field 'extra' is new in the message's schema id 6 and required", requiredAdded.Incompatible, StringComparison.Ordinal);
        Assert.Contains("the table's schema id 1", requiredAdded.Incompatible, StringComparison.Ordinal);
    }

    private static SourcePath Path(string text) => SourcePath.TryParse(text, out var path, out _) ? path! : throw new ArgumentException(text);

    private static MappingConfig Mapping(WriteMode mode, IReadOnlyList<ColumnMapping> overrides) => new()
    {
        Name = "orders",
        File = "orders.yaml",
        Topics = ["orders"],
        Table = new TableName("public", "orders"),
        ValueEncoding = PayloadEncoding.Avro,
        Mode = mode,
        Columns = overrides,
        ColumnsFromSchema = true,
    };
}
