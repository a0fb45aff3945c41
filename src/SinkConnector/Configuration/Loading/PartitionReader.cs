using System.Text;
using SinkConnector.PgBinary;
using YamlDotNet.RepresentationModel;

namespace SinkConnector.Configuration.Loading;

/// <summary>Reads a mapping's <c>partition: { by, interval, ahead }</c>.</summary>
internal static class PartitionReader
{
    public const int DefaultAhead = 7;
    private const int MaxAhead = 1000;

    /// <summary>The longest suffix a partition name gets (<c>_p2026120301</c>, hourly); names must fit Postgres's 63 bytes.</summary>
    public const int LongestSuffix = 12;

    private static readonly Dictionary<string, PartitionInterval> s_units = new(StringComparer.OrdinalIgnoreCase)
    {
        ["hour"] = PartitionInterval.Hour,
        ["day"] = PartitionInterval.Day,
        ["week"] = PartitionInterval.Week,
        ["month"] = PartitionInterval.Month,
    };

    public static PartitionSpec? Read(
        YamlMappingNode root, YamlValueReader reader, TableName? table, WriteMode mode, IReadOnlyList<ColumnMapping> columns, IReadOnlyList<string> key)
    {
        if (YamlValueReader.IsNull(YamlValueReader.Get(root, "partition")) || reader.Mapping(root, "", "partition") is not { } node)
        {
            return null;
        }

        var errorsBefore = reader.ErrorCount;
        reader.RejectUnknownKeys(node, "partition", "by", "interval", "ahead");
        var by = reader.String(node, "partition", "by", required: true);
        var interval = ReadInterval(node, reader);
        var ahead = reader.Int(node, "partition", "ahead", min: 1) ?? DefaultAhead;
        if (ahead > MaxAhead)
        {
            reader.Error("partition.ahead", $"at most {MaxAhead} partitions ahead");
        }

        if (by is not null)
        {
            var column = columns.FirstOrDefault(c => c.Name == by);
            if (column is null)
            {
                reader.Error("partition.by", $"column '{by}' is not declared in columns");
            }
            else if (column.Type.IsArray || column.Type.Scalar is not (ScalarType.TimestampTz or ScalarType.Timestamp or ScalarType.Date))
            {
                reader.Error("partition.by", $"column '{by}' is {column.Type}; range partitions by interval need timestamptz, timestamp or date");
            }
            else if (column.Type.Scalar == ScalarType.Date && interval == PartitionInterval.Hour)
            {
                reader.Error("partition.interval", $"column '{by}' is a date: hourly partitions need timestamptz or timestamp");
            }

            if (mode == WriteMode.Upsert && !key.Contains(by))
            {
                reader.Error("key", $"must include the partition column '{by}' (partition.by): every unique index of a partitioned table, " +
                                    "and so the upsert's ON CONFLICT target, includes the partition key");
            }
        }

        if (table is not null && Encoding.UTF8.GetByteCount(table.Name) + LongestSuffix > 63)
        {
            reader.Error("table", $"'{table.Name}' is too long for partition names ({table.Name}_p2026120301 must fit Postgres's 63 bytes)");
        }

        return reader.ErrorCount > errorsBefore || by is null || interval is null ? null : new PartitionSpec(by, interval.Value, ahead);
    }

    /// <summary><c>day</c> or <c>1 day</c> (hour, day, week, month); other counts are refused, so partition names stay aligned.</summary>
    private static PartitionInterval? ReadInterval(YamlMappingNode node, YamlValueReader reader)
    {
        if (reader.String(node, "partition", "interval", required: true) is not { } text)
        {
            return null;
        }

        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unit = words.Length switch
        {
            1 => words[0],
            2 when words[0] == "1" => words[1],
            _ => null,
        };
        if (unit is not null && s_units.TryGetValue(unit.TrimEnd('s'), out var interval))
        {
            return interval;
        }

        reader.Error("partition.interval", $"'{text}': expected 1 hour, 1 day, 1 week or 1 month");
        return null;
    }
}
