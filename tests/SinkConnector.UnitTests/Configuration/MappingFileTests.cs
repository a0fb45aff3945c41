using SinkConnector.Configuration;
using SinkConnector.PgBinary;

namespace SinkConnector.UnitTests.Configuration;

public sealed class MappingFileTests : IDisposable
{
    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string OrdersFile => _dir.MappingFile("orders.yaml");

    private ConfigException MappingFails(string yaml)
    {
        _dir.Write("mappings/orders.yaml", yaml);
        return _dir.LoadFails();
    }

    private MappingConfig LoadMapping(string yaml)
    {
        _dir.Write("mappings/orders.yaml", yaml);
        return Assert.Single(_dir.Load().Mappings);
    }

    [Fact]
    public void Defaults_apply_to_a_minimal_mapping()
    {
        var mapping = Assert.Single(_dir.Load().Mappings);

        Assert.Equal("orders", mapping.Name);
        Assert.Equal(OrdersFile, mapping.File);
        Assert.Equal(["orders"], mapping.Topics);
        Assert.Equal(new TableName("public", "orders"), mapping.Table);
        Assert.Equal(MessageFormat.Json, mapping.Format);
        Assert.Equal(WriteMode.Insert, mapping.Mode);
        Assert.Empty(mapping.Key);
        Assert.False(mapping.DeleteOnTombstone);
        Assert.Equal(ErrorPolicy.DeadLetter, mapping.OnError);
        Assert.False(mapping.AutoCreate);
        Assert.False(mapping.AutoEvolve);
        var column = Assert.Single(mapping.Columns);
        Assert.Equal(new ColumnMapping("id", column.From, ColumnType.Parse("bigint"), false, null), column);
        Assert.Equal("value.id", column.From.Text);
    }

    [Fact]
    public void Topics_list_and_unqualified_table_are_accepted()
    {
        var mapping = LoadMapping("""
            topics: [eu.orders, us.orders]
            table: orders
            format: DEBEZIUM
            mode: upsert
            key: [id]
            delete_on_tombstone: FALSE
            on_error: fail
            auto_create: true
            auto_evolve: false
            columns:
              id: { from: value.id, type: bigint }
              lsn: { from: source.lsn, type: bigint, nullable: true }
            """);

        Assert.Equal(["eu.orders", "us.orders"], mapping.Topics);
        Assert.Equal(new TableName("public", "orders"), mapping.Table);
        Assert.Equal(MessageFormat.Debezium, mapping.Format);
        Assert.Equal(WriteMode.Upsert, mapping.Mode);
        Assert.Equal(["id"], mapping.Key);
        Assert.False(mapping.DeleteOnTombstone);
        Assert.Equal(ErrorPolicy.Fail, mapping.OnError);
        Assert.True(mapping.AutoCreate);
        Assert.True(mapping.Columns[1].Nullable);
    }

    [Fact]
    public void Unknown_key_in_a_column_is_reported_with_its_dotted_path()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping.Replace("type: bigint", "type: bigint, nulable: true", StringComparison.Ordinal));

        ConfigAssert.HasOnlyError(e, OrdersFile, "columns.id.nulable", "unknown key");
    }

    [Fact]
    public void Bad_type_name_is_reported_with_the_type_parsers_reason()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping.Replace("type: bigint", "type: money", StringComparison.Ordinal));

        ConfigAssert.HasOnlyError(e, OrdersFile, "columns.id.type", "unknown type 'money'");
    }

    [Fact]
    public void Duplicate_column_is_reported()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping + "\n  id: { from: key, type: text }\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "columns.id", "duplicate column");
    }

    [Fact]
    public void Columns_differing_only_in_case_are_distinct()
    {
        var mapping = LoadMapping(TempConfigDirectory.ValidMapping + "\n  ID: { from: key, type: text }\n");

        Assert.Equal(["id", "ID"], mapping.Columns.Select(c => c.Name));
    }

    [Fact]
    public void Missing_from_is_reported()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping.Replace("from: value.id, ", "", StringComparison.Ordinal));

        ConfigAssert.HasOnlyError(e, OrdersFile, "columns.id.from", "is required");
    }

    [Fact]
    public void Missing_type_is_reported()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping.Replace(", type: bigint", "", StringComparison.Ordinal));

        ConfigAssert.HasOnlyError(e, OrdersFile, "columns.id.type", "is required");
    }

    [Fact]
    public void Unknown_source_is_reported_with_the_path_parsers_reason()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping.Replace("value.id", "body.id", StringComparison.Ordinal));

        ConfigAssert.HasOnlyError(e, OrdersFile, "columns.id.from", "unknown source 'body'");
    }

    [Fact]
    public void Source_fields_need_format_debezium()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping.Replace("value.id", "source.ts_ms", StringComparison.Ordinal));

        ConfigAssert.HasOnlyError(e, OrdersFile, "columns.id.from", "needs format: debezium");
    }

    [Fact]
    public void Raw_format_allows_only_the_whole_value()
    {
        var e = MappingFails("""
            topic: orders
            table: orders
            format: raw
            columns:
              body: { from: value, type: bytea }
              id: { from: value.id, type: bigint }
            """);

        ConfigAssert.HasOnlyError(e, OrdersFile, "columns.id.from", "format raw");
    }

    [Fact]
    public void Upsert_without_key_is_reported()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping + "\nmode: upsert\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "key", "is required for mode: upsert");
    }

    [Fact]
    public void Key_column_not_declared_is_reported()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping + "\nmode: upsert\nkey: [id, tenant]\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "key[1]", "column 'tenant' is not declared");
    }

    [Fact]
    public void Nullable_key_column_is_rejected_for_upsert()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping.Replace("type: bigint", "type: bigint, nullable: true", StringComparison.Ordinal) + "\nmode: upsert\nkey: [id]\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "key[0]", "cannot be nullable");
    }

    [Fact]
    public void Delete_on_tombstone_requires_upsert()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping + "\ndelete_on_tombstone: true\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "delete_on_tombstone", "only allowed with mode: upsert");
    }

    [Fact]
    public void Delete_on_tombstone_is_rejected_for_debezium_which_deletes_on_d_events()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping + "\nformat: debezium\nmode: upsert\nkey: [id]\ndelete_on_tombstone: true\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "delete_on_tombstone", "deletes on 'd' events");
    }

    [Fact]
    public void Topic_and_topics_together_are_rejected()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping + "\ntopics: [a]\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "topics", "either topic or topics");
    }

    [Fact]
    public void Neither_topic_nor_topics_is_reported()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping.Replace("topic: orders\n", "", StringComparison.Ordinal));

        ConfigAssert.HasOnlyError(e, OrdersFile, "topic", "is required");
    }

    [Fact]
    public void Invalid_topic_name_is_reported()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping.Replace("topic: orders", "topics: [ok, \"not ok\"]", StringComparison.Ordinal));

        ConfigAssert.HasOnlyError(e, OrdersFile, "topics[1]", "not a valid Kafka topic name");
    }

    [Fact]
    public void Bad_table_name_is_reported()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping.Replace("public.orders", "public.", StringComparison.Ordinal));

        ConfigAssert.HasOnlyError(e, OrdersFile, "table", "table name is empty");
    }

    [Fact]
    public void Quoted_table_names_may_contain_dots()
    {
        var mapping = LoadMapping(TempConfigDirectory.ValidMapping.Replace("public.orders", "'\"my.schema\".orders'", StringComparison.Ordinal));

        Assert.Equal(new TableName("my.schema", "orders"), mapping.Table);
    }

    [Theory]
    [InlineData("format: thrift", "format", "expected one of: json, debezium, connect-json, raw, avro, json_schema, protobuf")]
    [InlineData("mode: merge", "mode", "expected one of: insert, upsert")]
    [InlineData("on_error: ignore", "on_error", "expected one of: dead_letter, fail")]
    [InlineData("auto_create: yes", "auto_create", "expected true or false")]
    public void Enumerated_values_list_the_accepted_choices(string line, string key, string reason)
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping + "\n" + line + "\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, key, reason);
    }

    [Fact]
    public void Missing_or_empty_columns_are_reported()
    {
        var e = MappingFails("topic: orders\ntable: orders\n");
        ConfigAssert.HasOnlyError(e, OrdersFile, "columns", "is required");

        e = MappingFails("topic: orders\ntable: orders\ncolumns: {}\n");
        ConfigAssert.HasOnlyError(e, OrdersFile, "columns", "at least one column");
    }

    [Fact]
    public void Column_names_with_nul_or_over_63_bytes_are_rejected()
    {
        var longName = new string('c', 64);
        var e = MappingFails(TempConfigDirectory.ValidMapping + $"\n  \"a\\0b\": {{ from: key, type: text }}\n  {longName}: {{ from: key, type: text }}\n");

        ConfigAssert.HasError(e, OrdersFile, "columns.a\0b", "contains a NUL character");
        ConfigAssert.HasError(e, OrdersFile, $"columns.{longName}", "longer than 63 bytes");
        Assert.Equal(2, e.Errors.Count);
    }

    [Fact]
    public void Column_given_as_a_scalar_is_reported()
    {
        var e = MappingFails(TempConfigDirectory.ValidMapping + "\n  total: value.total\n");

        ConfigAssert.HasOnlyError(e, OrdersFile, "columns.total", "expected a mapping, not a scalar");
    }

    [Fact]
    public void Default_is_kept_as_text_and_must_be_a_scalar()
    {
        var mapping = LoadMapping(TempConfigDirectory.ValidMapping + "\n  status: { from: value.status, type: text, default: \"\" }\n");
        Assert.Equal("", mapping.Columns[1].Default);

        var e = MappingFails(TempConfigDirectory.ValidMapping + "\n  tags: { from: value.tags, type: \"text[]\", default: [a] }\n");
        ConfigAssert.HasOnlyError(e, OrdersFile, "columns.tags.default", "expected a single value, not a list");
    }
}
