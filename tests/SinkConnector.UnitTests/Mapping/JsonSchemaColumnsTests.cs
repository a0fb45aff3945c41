using SinkConnector.Configuration;
using SinkConnector.Mapping.SchemaColumns;
using SinkConnector.PgBinary;
using SinkConnector.Registry;
using SinkConnector.Testing;

namespace SinkConnector.UnitTests.Mapping;

/// <summary>Columns from JSON Schemas: each property's column type and nullability, $refs, Debezium row images, and evolution verdicts.</summary>
public sealed class JsonSchemaColumnsTests
{
    private static RegistrySchema Object(string properties, string required = "[]") =>
        new(1, "JSON", $$"""{"type": "object", "properties": {{{properties}}}, "required": {{required}}}""");

    [Theory]
    [InlineData("""{"type": "integer"}""", "bigint", false)]
    [InlineData("""{"type": "integer", "connect.type": "int32"}""", "integer", false)]
    [InlineData("""{"type": "integer", "connect.type": "int16"}""", "smallint", false)]
    [InlineData("""{"type": "number"}""", "double precision", false)]
    [InlineData("""{"type": "number", "format": "decimal"}""", "numeric", false)]
    [InlineData("""{"type": "number", "connect.type": "float32"}""", "real", false)]
    [InlineData("""{"type": "number", "title": "org.apache.kafka.connect.data.Decimal", "connect.parameters": {"scale": "2", "connect.decimal.precision": "12"}}""", "numeric(12,2)", false)]
    [InlineData("""{"type": "string"}""", "text", false)]
    [InlineData("""{"type": "string", "format": "date-time"}""", "timestamptz", false)]
    [InlineData("""{"type": "string", "format": "date"}""", "date", false)]
    [InlineData("""{"type": "string", "format": "time"}""", "time", false)]
    [InlineData("""{"type": "string", "format": "uuid"}""", "uuid", false)]
    [InlineData("""{"type": "string", "format": "guid"}""", "uuid", false)]
    [InlineData("""{"type": "string", "connect.type": "bytes"}""", "bytea", false)]
    [InlineData("""{"type": "integer", "title": "org.apache.kafka.connect.data.Timestamp"}""", "timestamptz", false)]
    [InlineData("""{"type": "boolean"}""", "boolean", false)]
    [InlineData("""{"type": "object", "properties": {"a": {"type": "integer"}}}""", "jsonb", false)]
    [InlineData("""{"type": "array", "items": {"type": "integer"}}""", "jsonb", false)]
    [InlineData("""{"enum": ["A", "B"]}""", "text", false)]
    [InlineData("""{}""", "jsonb", false)]
    [InlineData("""{"type": ["string", "null"]}""", "text", true)]
    [InlineData("""{"type": ["integer", "string"]}""", "jsonb", false)]
    [InlineData("""{"oneOf": [{"type": "null"}, {"type": "string", "format": "date"}]}""", "date", true)]
    [InlineData("""{"anyOf": [{"type": "integer"}, {"type": "null"}]}""", "bigint", true)]
    [InlineData("""{"$ref": "#/definitions/Money"}""", "numeric", false)]
    [InlineData("""{"oneOf": [{"type": "null"}, {"$ref": "#/definitions/Customer"}]}""", "jsonb", true)]
    [InlineData("""{"$ref": "other.json#/Thing"}""", "jsonb", false)]
    public void Each_json_schema_property_type_becomes_the_column_type_its_json_value_converts_into(string property, string columnType, bool nullable)
    {
        const string definitions = """
            "definitions": {"Money": {"type": "number", "format": "decimal"}, "Customer": {"type": "object", "properties": {}}}
            """;
        var schema = new RegistrySchema(1, "JSON", $$"""{"type": "object", "required": ["f"], "properties": {"f": {{property}}}, {{definitions}}}""");

        var field = Assert.Single(SchemaFields.Of(schema, MessageFormat.Json));

        Assert.Equal(ColumnType.Parse(columnType), field.Type);
        Assert.Equal(nullable, field.Nullable);
    }

    [Fact]
    public void A_property_that_is_not_required_is_nullable_and_optional_and_a_default_makes_a_required_one_optional()
    {
        var fields = SchemaFields.Of(Object("""
            "id": {"type": "integer"}, "note": {"type": "string"}, "level": {"type": "integer", "default": 3}
            """, """["id", "level"]"""), MessageFormat.Json);

        Assert.Equal(["id", "note", "level"], fields.Select(f => f.Name));
        Assert.Equal([false, true, false], fields.Select(f => f.Nullable));
        Assert.Equal([false, true, true], fields.Select(f => f.Optional));
        Assert.Equal("3", fields[2].Default);
    }

    [Fact]
    public void A_debezium_json_schema_envelope_gives_the_properties_of_its_row_image()
    {
        var envelope = new RegistrySchema(1, "JSON", """
            {"type": "object", "title": "db.Envelope", "properties": {
              "before": {"oneOf": [{"type": "null"}, {"type": "object", "title": "db.Value", "required": ["id"],
                "properties": {"id": {"type": "integer", "connect.type": "int64"}, "email": {"oneOf": [{"type": "null"}, {"type": "string"}]}}}]},
              "after": {"oneOf": [{"type": "null"}, {"type": "object", "title": "db.Value", "required": ["id"],
                "properties": {"id": {"type": "integer", "connect.type": "int64"}, "email": {"oneOf": [{"type": "null"}, {"type": "string"}]}}}]},
              "op": {"type": "string"}}, "required": ["op"]}
            """);

        var fields = SchemaFields.Of(envelope, MessageFormat.Debezium);

        Assert.Equal(["id", "email"], fields.Select(f => f.Name));
        Assert.Equal([false, true], fields.Select(f => f.Nullable));
    }

    [Theory]
    [InlineData("""{"type": "string"}""", "string")]
    [InlineData("""{"type": "array", "items": {"type": "integer"}}""", "array")]
    [InlineData("""{"type": "object"}""", "object")]
    [InlineData("""{"$ref": "#/definitions/Nowhere"}""", "not one object schema")]
    public void A_json_schema_that_is_not_an_object_with_properties_gives_no_columns_and_says_what_it_is(string schema, string described)
    {
        var error = Assert.Throws<FormatException>(() => SchemaFields.Of(new RegistrySchema(1, "JSON", schema), MessageFormat.Json));

        Assert.Contains($"this JSON Schema is {described}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_ref_cycle_is_refused_with_the_reason()
    {
        var error = Assert.Throws<FormatException>(() => SchemaFields.Of(new RegistrySchema(1, "JSON", """{"$ref": "#"}"""), MessageFormat.Json));

        Assert.Contains("$refs go in a circle", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_newer_json_schema_adding_an_optional_property_is_an_addition_and_a_type_change_or_removed_required_property_is_incompatible()
    {
        var table = SchemaColumnDerivation.Derive(Mapping(),
            SchemaFields.Of(Object("""
                "id": {"type": "integer"}, "amount": {"type": "number"}
                """, """["id", "amount"]"""), MessageFormat.Json),
            [], new SchemaColumnSource("r-value", 1, new HashSet<string>()));

        var added = SchemaEvolution.Compare(table, SchemaFields.Of(Object("""
            "id": {"type": "integer"}, "amount": {"type": "number"}, "note": {"type": "string"}
            """, """["id", "amount"]"""), MessageFormat.Json), 2);
        Assert.Null(added.Incompatible);
        Assert.Equal(["note"], added.Added.Select(f => f.Name));

        var typeChanged = SchemaEvolution.Compare(table, SchemaFields.Of(Object("""
            "id": {"type": "integer"}, "amount": {"type": "string"}
            """, """["id", "amount"]"""), MessageFormat.Json), 3);
        Assert.Contains("field 'amount' is double precision in the table's schema id 1 and text in the message's schema id 3", typeChanged.Incompatible, StringComparison.Ordinal);

        var requiredRemoved = SchemaEvolution.Compare(table, SchemaFields.Of(Object("""
            "id": {"type": "integer"}
            """, """["id"]"""), MessageFormat.Json), 4);
        Assert.Contains("field 'amount' is required by the table's schema id 1", requiredRemoved.Incompatible, StringComparison.Ordinal);
    }

    /// <summary>A type as producers write it (public for the serializer's schema generator).</summary>
    public class Reading
    {
        public long Id { get; set; }

        public string Body { get; set; } = "";

        public double Amount { get; set; }

        public decimal Price { get; set; }

        public DateTimeOffset At { get; set; }

        public Guid Ref { get; set; }

        public bool Flag { get; set; }

        public string? Note { get; set; }

        public Dictionary<string, int> Tags { get; set; } = [];

        public List<long> Codes { get; set; } = [];
    }

    [Fact]
    public async Task The_schema_confluents_json_serializer_registers_for_a_dotnet_type_gives_a_column_per_property_typed_as_its_values_convert()
    {
        await using var registry = SchemaRegistryStandIn.Start();
        using var producer = new JsonSchemaProducerSerde<Reading>(registry.Url);
        using var schemas = SchemaRegistryClients.Create(new SchemaRegistrySettings { Urls = [registry.Url] });
        await producer.ValueAsync("readings", new Reading());

        var latest = await schemas.GetLatestAsync("readings-value", CancellationToken.None);
        var fields = SchemaFields.Of(latest!, MessageFormat.Json);

        Assert.Equal(
            ["Id bigint", "Body text", "Amount double precision", "Price numeric", "At timestamp with time zone", "Ref uuid", "Flag boolean", "Note text", "Tags jsonb", "Codes jsonb"],
            fields.Select(f => $"{f.Name} {f.Type.SqlName}"));
        Assert.Empty(registry.Unrouted);
    }

    /// <summary>A derived type: NJsonSchema writes it as allOf [the base type's $ref] plus its own properties.</summary>
    public sealed class RemarkedReading : Reading
    {
        public string? Remark { get; set; }
    }

    [Fact]
    public void The_allof_schema_the_dotnet_generator_writes_for_a_derived_type_gives_the_base_type_s_properties_then_its_own()
    {
        // The schema Confluent's JsonSerializer would register (its own generator settings); the serializer itself then
        // fails to validate derived objects against it (NJsonSchema), so it is generated here directly.
        var schema = NJsonSchema.JsonSchema.FromType<RemarkedReading>(new NJsonSchema.NewtonsoftJson.Generation.NewtonsoftJsonSchemaGeneratorSettings()).ToJson();
        Assert.Contains("allOf", schema, StringComparison.Ordinal);

        var fields = SchemaFields.Of(new RegistrySchema(1, "JSON", schema), MessageFormat.Json);

        Assert.Equal(["Id", "Body", "Amount", "Price", "At", "Ref", "Flag", "Note", "Tags", "Codes", "Remark"], fields.Select(f => f.Name));
        Assert.Equal("text", fields[^1].Type.SqlName);
    }

    [Fact]
    public void Allof_members_are_merged_with_refs_followed_and_their_required_lists_kept()
    {
        var schema = new RegistrySchema(1, "JSON", """
            {"type": "object", "allOf": [{"$ref": "#/definitions/Base"}], "properties": {"note": {"type": "string"}},
             "definitions": {"Base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "at": {"type": "string", "format": "date"}}}}}
            """);

        var fields = SchemaFields.Of(schema, MessageFormat.Json);

        Assert.Equal(["id bigint False", "at date True", "note text True"], fields.Select(f => $"{f.Name} {f.Type.SqlName} {f.Nullable}"));
    }

    private static MappingConfig Mapping() => new()
    {
        Name = "readings",
        File = "readings.yaml",
        Topics = ["readings"],
        Table = new TableName("public", "readings"),
        ValueEncoding = PayloadEncoding.JsonSchema,
        Mode = WriteMode.Insert,
        Columns = [],
        ColumnsFromSchema = true,
    };
}
