using SinkConnector.Configuration;
using SinkConnector.PgBinary;
using SinkConnector.Writing;

namespace SinkConnector.UnitTests.Writing;

/// <summary>Partition names, bounds and windows of <c>partition:</c> mappings, and the DDL that creates them.</summary>
public class PartitionWindowTests
{
    private static readonly TableName s_events = new("public", "events");
    private static readonly SourcePath s_from = SourcePath.TryParse("value", out var path, out _) ? path! : throw new InvalidOperationException();

    // A Thursday, 14:35 UTC.
    private static readonly DateTime s_now = new(2026, 12, 3, 14, 35, 10, DateTimeKind.Utc);

    [Theory]
    [InlineData(PartitionInterval.Hour, "2026-12-03T14:00:00", "2026-12-03T15:00:00", "events_p2026120314")]
    [InlineData(PartitionInterval.Day, "2026-12-03T00:00:00", "2026-12-04T00:00:00", "events_p20261203")]
    [InlineData(PartitionInterval.Week, "2026-11-30T00:00:00", "2026-12-07T00:00:00", "events_w20261130")]
    [InlineData(PartitionInterval.Month, "2026-12-01T00:00:00", "2027-01-01T00:00:00", "events_p202612")]
    public void Each_interval_aligns_in_utc_and_names_its_partition_by_its_start(PartitionInterval interval, string start, string next, string name)
    {
        var floor = PartitionWindow.Floor(s_now, interval);

        Assert.Equal(DateTime.Parse(start, null, System.Globalization.DateTimeStyles.AdjustToUniversal), floor);
        Assert.Equal(DateTimeKind.Utc, floor.Kind);
        Assert.Equal(DateTime.Parse(next, null, System.Globalization.DateTimeStyles.AdjustToUniversal), PartitionWindow.Add(floor, interval, 1));
        Assert.Equal(name, PartitionWindow.Name(s_events, floor, interval));
    }

    [Fact]
    public void A_sunday_belongs_to_the_week_that_started_on_the_monday_before()
    {
        var sunday = new DateTime(2026, 12, 6, 23, 59, 0, DateTimeKind.Utc);

        Assert.Equal(new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc), PartitionWindow.Floor(sunday, PartitionInterval.Week));
    }

    [Fact]
    public void The_window_is_the_current_interval_and_ahead_more()
    {
        var starts = PartitionWindow.Starts(s_now, new PartitionSpec("at", PartitionInterval.Month, 2)).ToList();

        Assert.Equal([new(2026, 12, 1), new(2027, 1, 1), new(2027, 2, 1)], starts.Select(s => DateOnly.FromDateTime(s)));
    }

    [Theory]
    [InlineData("timestamptz", "FOR VALUES FROM ('2026-12-03 00:00:00+00') TO ('2026-12-04 00:00:00+00')")]
    [InlineData("timestamp", "FOR VALUES FROM ('2026-12-03 00:00:00') TO ('2026-12-04 00:00:00')")]
    [InlineData("date", "FOR VALUES FROM ('2026-12-03') TO ('2026-12-04')")]
    public void A_partition_is_created_if_not_exists_with_bounds_in_the_column_type(string type, string bounds)
    {
        var sql = PartitionWindow.CreateSql(s_events, ColumnType.Parse(type), PartitionWindow.Floor(s_now, PartitionInterval.Day), PartitionInterval.Day);

        Assert.Equal($"CREATE TABLE IF NOT EXISTS \"public\".\"events_p20261203\" PARTITION OF \"public\".\"events\" {bounds}", sql);
    }

    [Fact]
    public void Tables_plan_creates_a_range_partitioned_parent_with_its_primary_key_and_the_partitions_ahead()
    {
        var mapping = new MappingConfig
        {
            Name = "events",
            File = "/config/mappings/events.yaml",
            Topics = ["events"],
            Table = s_events,
            Mode = WriteMode.Upsert,
            Key = ["id", "at"],
            Partition = new PartitionSpec("at", PartitionInterval.Day, 1),
            Columns = [new ColumnMapping("id", s_from, ColumnType.Parse("bigint"), false, null), new ColumnMapping("at", s_from, ColumnType.Parse("timestamptz"), false, null)],
        };

        var plan = TableManager.Plan([mapping], new TableCatalog(new HashSet<string> { "public" }, new Dictionary<TableName, IReadOnlyList<DatabaseColumn>>()), utcNow: s_now);

        Assert.Equal(
            [
                (TableChangeKind.CreateTable,
                    "CREATE TABLE \"public\".\"events\" (\"id\" bigint NOT NULL, \"at\" timestamp with time zone NOT NULL, PRIMARY KEY (\"id\", \"at\")) PARTITION BY RANGE (\"at\")"),
                (TableChangeKind.CreatePartition,
                    "CREATE TABLE IF NOT EXISTS \"public\".\"events_p20261203\" PARTITION OF \"public\".\"events\" FOR VALUES FROM ('2026-12-03 00:00:00+00') TO ('2026-12-04 00:00:00+00')"),
                (TableChangeKind.CreatePartition,
                    "CREATE TABLE IF NOT EXISTS \"public\".\"events_p20261204\" PARTITION OF \"public\".\"events\" FOR VALUES FROM ('2026-12-04 00:00:00+00') TO ('2026-12-05 00:00:00+00')"),
            ],
            plan.Changes.Select(c => (c.Kind, c.Sql)));
        // auto_create makes them at startup like the table.
        Assert.True(TableManager.IsAutomatic(mapping with { AutoCreate = true }, TableChangeKind.CreatePartition));
        Assert.False(TableManager.IsAutomatic(mapping, TableChangeKind.CreatePartition));
    }

    [Fact]
    public void Validate_names_the_partition_columns_an_upsert_key_leaves_out_and_a_table_not_partitioned_as_partition_says()
    {
        var upsert = new MappingConfig
        {
            Name = "events",
            File = "/config/mappings/events.yaml",
            Topics = ["events"],
            Table = s_events,
            Mode = WriteMode.Upsert,
            Key = ["id"],
            Columns = [new ColumnMapping("id", s_from, ColumnType.Parse("bigint"), false, null)],
        };
        var byRange = new PartitionKey("RANGE (created_at, region)", 'r', ["created_at", "region"]);

        var error = Assert.Single(PartitionedTableCheck.Check(upsert, byRange));
        Assert.Equal(
            "/config/mappings/events.yaml: key: public.events is partitioned by RANGE (created_at, region): the upsert key (id) must include the partition column(s) created_at, region. " +
            "A unique index on a partitioned table, and so ON CONFLICT's target, always includes the partition key: add them to key and to the table's primary key",
            error.ToString());
        Assert.Empty(PartitionedTableCheck.Check(upsert with { Key = ["region", "id", "created_at"] }, byRange));
        Assert.Contains("a partition key with expressions", Assert.Single(PartitionedTableCheck.Check(upsert, new PartitionKey("RANGE (lower(x))", 'r', null))).Reason, StringComparison.Ordinal);
        Assert.Empty(PartitionedTableCheck.Check(upsert with { Mode = WriteMode.Insert }, byRange));

        var partitioned = upsert with { Mode = WriteMode.Insert, Partition = new PartitionSpec("created_at", PartitionInterval.Day, 7) };
        Assert.Equal("partition.by", Assert.Single(PartitionedTableCheck.Check(partitioned, null)).Key);
        Assert.Contains("public.events is partitioned by LIST (created_at), but partition: needs it PARTITION BY RANGE (\"created_at\")",
            Assert.Single(PartitionedTableCheck.Check(partitioned, new PartitionKey("LIST (created_at)", 'l', ["created_at"]))).Reason, StringComparison.Ordinal);
        Assert.Empty(PartitionedTableCheck.Check(partitioned, new PartitionKey("RANGE (created_at)", 'r', ["created_at"])));
    }
}
