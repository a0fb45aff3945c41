using SinkConnector.Configuration;

namespace SinkConnector.UnitTests.Configuration;

/// <summary>A mapping's <c>partition:</c> key and computed <c>from:</c> values, as the loader reads and refuses them.</summary>
public sealed class PartitionConfigTests : IDisposable
{
    private const string Columns = """
        columns:
          id:         { from: value.id, type: bigint }
          created_at: { from: value.created_at, type: timestamptz }
          day:        { from: value.day, type: date }
          note:       { from: value.note, type: text }
        """;

    private readonly TempConfigDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string File => _dir.MappingFile("orders.yaml");

    private MappingConfig Loads(string yaml)
    {
        _dir.Write("mappings/orders.yaml", "topic: orders\ntable: public.orders\n" + yaml);
        return Assert.Single(_dir.Load().Mappings);
    }

    private ConfigException Fails(string yaml)
    {
        _dir.Write("mappings/orders.yaml", "topic: orders\ntable: public.orders\n" + yaml);
        return _dir.LoadFails();
    }

    [Theory]
    [InlineData("1 day", PartitionInterval.Day)]
    [InlineData("day", PartitionInterval.Day)]
    [InlineData("1 hour", PartitionInterval.Hour)]
    [InlineData("1 weeks", PartitionInterval.Week)]
    [InlineData("Month", PartitionInterval.Month)]
    public void Partition_by_a_timestamp_column_with_an_interval_loads(string interval, PartitionInterval expected)
    {
        var mapping = Loads($"partition: {{ by: created_at, interval: {interval}, ahead: 3 }}\n" + Columns);

        Assert.Equal(new PartitionSpec("created_at", expected, 3), mapping.Partition);
    }

    [Fact]
    public void Ahead_defaults_to_seven_and_a_mapping_without_partition_has_none()
    {
        Assert.Equal(7, Loads("partition: { by: day, interval: week }\n" + Columns).Partition!.Ahead);
        Assert.Null(Loads(Columns).Partition);
    }

    [Theory]
    [InlineData("{ by: missing, interval: day }", "partition.by", "column 'missing' is not declared in columns")]
    [InlineData("{ by: note, interval: day }", "partition.by", "column 'note' is text; range partitions by interval need timestamptz, timestamp or date")]
    [InlineData("{ by: day, interval: hour }", "partition.interval", "column 'day' is a date: hourly partitions need timestamptz or timestamp")]
    [InlineData("{ by: created_at, interval: 2 days }", "partition.interval", "'2 days': expected 1 hour, 1 day, 1 week or 1 month")]
    [InlineData("{ by: created_at, interval: fortnight }", "partition.interval", "expected 1 hour, 1 day, 1 week or 1 month")]
    [InlineData("{ by: created_at, interval: day, ahead: 0 }", "partition.ahead", "")]
    [InlineData("{ by: created_at, interval: day, ahead: 1001 }", "partition.ahead", "at most 1000 partitions ahead")]
    [InlineData("{ by: created_at, interval: day, behind: 1 }", "partition.behind", "")]
    [InlineData("{ interval: day }", "partition.by", "is required")]
    public void A_bad_partition_key_names_file_key_and_reason(string partition, string key, string reason) =>
        ConfigAssert.HasOnlyError(Fails($"partition: {partition}\n" + Columns), File, key, reason);

    [Fact]
    public void An_upsert_key_without_the_partition_column_is_refused()
    {
        var error = Fails("mode: upsert\nkey: [id]\npartition: { by: created_at, interval: day }\n" + Columns);

        ConfigAssert.HasOnlyError(error, File, "key", "must include the partition column 'created_at' (partition.by)");
        Assert.Equal(["id", "created_at"], Loads("mode: upsert\nkey: [id, created_at]\npartition: { by: created_at, interval: day }\n" + Columns).Key);
    }

    [Fact]
    public void A_table_name_too_long_for_its_partition_names_is_refused()
    {
        _dir.Write("mappings/orders.yaml", $"topic: orders\ntable: public.{new string('t', 52)}\npartition: {{ by: created_at, interval: day }}\n" + Columns);

        ConfigAssert.HasOnlyError(_dir.LoadFails(), File, "table", "is too long for partition names");
    }

    [Fact]
    public void Computed_columns_load_with_their_expressions()
    {
        var mapping = Loads("""
            columns:
              id:      { from: "concat(key.region, '-', key.id)", type: text }
              channel: { from: "'web'", type: text }
              qty:     { from: "'1'", type: integer }
              at:      { from: now(), type: timestamptz }
            """);

        Assert.Equal([SourceKind.Concat, SourceKind.Constant, SourceKind.Constant, SourceKind.Now], mapping.Columns.Select(c => c.From.Kind));
    }

    [Theory]
    [InlineData("at: { from: now(), type: date }", "columns.at.from", "now() is the batch's transaction time and needs type timestamptz or timestamp, not date")]
    [InlineData("at: { from: \"concat(value.a\", type: text }", "columns.at.from", "must end with ')'")]
    [InlineData("at: { from: \"concat(value.a, source.db)\", type: text }", "columns.at.from", "source.<field> reads the Debezium envelope")]
    [InlineData("at: { from: \"'abc'\", type: integer }", "columns", "column 'at': constant 'abc' is not a valid integer")]
    public void A_bad_computed_column_names_file_key_and_reason(string column, string key, string reason) =>
        ConfigAssert.HasOnlyError(Fails("columns:\n  id: { from: value.id, type: bigint }\n  " + column), File, key, reason);

    [Fact]
    public void A_key_column_from_now_is_refused()
    {
        var error = Fails("mode: upsert\nkey: [at]\ncolumns:\n  at: { from: now(), type: timestamptz }");

        ConfigAssert.HasOnlyError(error, File, "key[0]", "key column 'at' cannot be from: now()");
    }
}
