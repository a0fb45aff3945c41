using System.Globalization;
using SinkConnector.Configuration;
using SinkConnector.PgBinary;
using SinkConnector.Schema;

namespace SinkConnector.Writing;

/// <summary>
/// The partitions a <c>partition:</c> mapping keeps: one per interval, aligned in UTC, from the interval holding the
/// current time to <see cref="PartitionSpec.Ahead"/> intervals after it. Names and bounds follow from the interval's
/// start alone, so every sink process (and every restart) computes the same statements.
/// </summary>
public static class PartitionWindow
{
    /// <summary>The start of the interval holding <paramref name="utc"/>.</summary>
    public static DateTime Floor(DateTime utc, PartitionInterval interval) => interval switch
    {
        PartitionInterval.Hour => new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, DateTimeKind.Utc),
        PartitionInterval.Day => new DateTime(utc.Year, utc.Month, utc.Day, 0, 0, 0, DateTimeKind.Utc),
        // ISO weeks: Monday is day 0.
        PartitionInterval.Week => new DateTime(utc.Year, utc.Month, utc.Day, 0, 0, 0, DateTimeKind.Utc).AddDays(-(((int)utc.DayOfWeek + 6) % 7)),
        _ => new DateTime(utc.Year, utc.Month, 1, 0, 0, 0, DateTimeKind.Utc),
    };

    /// <summary>The start <paramref name="count"/> intervals after <paramref name="start"/>.</summary>
    public static DateTime Add(DateTime start, PartitionInterval interval, int count) => interval switch
    {
        PartitionInterval.Hour => start.AddHours(count),
        PartitionInterval.Day => start.AddDays(count),
        PartitionInterval.Week => start.AddDays(7 * count),
        _ => start.AddMonths(count),
    };

    /// <summary>The starts of the partitions that should exist at <paramref name="utcNow"/>: the current interval and <c>ahead</c> more.</summary>
    public static IEnumerable<DateTime> Starts(DateTime utcNow, PartitionSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var first = Floor(utcNow, spec.Interval);
        return Enumerable.Range(0, spec.Ahead + 1).Select(i => Add(first, spec.Interval, i));
    }

    /// <summary><c>events_p20261203</c> (day), <c>_p2026120314</c> (hour), <c>_w20261130</c> (week of that Monday), <c>_p202612</c> (month).</summary>
    public static string Name(TableName table, DateTime start, PartitionInterval interval)
    {
        ArgumentNullException.ThrowIfNull(table);
        var suffix = interval switch
        {
            PartitionInterval.Hour => "_p" + start.ToString("yyyyMMddHH", CultureInfo.InvariantCulture),
            PartitionInterval.Day => "_p" + start.ToString("yyyyMMdd", CultureInfo.InvariantCulture),
            PartitionInterval.Week => "_w" + start.ToString("yyyyMMdd", CultureInfo.InvariantCulture),
            _ => "_p" + start.ToString("yyyyMM", CultureInfo.InvariantCulture),
        };
        return table.Name + suffix;
    }

    /// <summary>
    /// The partition's DDL. IF NOT EXISTS makes it idempotent; the bounds are literals (DDL takes no parameters),
    /// formatted here from a <see cref="DateTime"/>, never from configuration text.
    /// </summary>
    public static string CreateSql(TableName table, ColumnType byType, DateTime start, PartitionInterval interval)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(byType);
        var partition = new TableName(table.Schema, Name(table, start, interval));
        return $"CREATE TABLE IF NOT EXISTS {Sql.Quote(partition)} PARTITION OF {Sql.Quote(table)} " +
               $"FOR VALUES FROM ({Bound(start, byType)}) TO ({Bound(Add(start, interval, 1), byType)})";
    }

    /// <summary>Every partition statement of a mapping at <paramref name="utcNow"/>, oldest first.</summary>
    public static IEnumerable<string> CreateSql(MappingConfig mapping, DateTime utcNow)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var spec = mapping.Partition ?? throw new ArgumentException($"mapping {mapping.Name} has no partition:", nameof(mapping));
        var byType = mapping.Columns.First(c => c.Name == spec.By).Type;
        return Starts(utcNow, spec).Select(start => CreateSql(mapping.Table, byType, start, spec.Interval));
    }

    private static string Bound(DateTime start, ColumnType byType) => byType.Scalar switch
    {
        ScalarType.Date => start.ToString("\\'yyyy-MM-dd\\'", CultureInfo.InvariantCulture),
        ScalarType.Timestamp => start.ToString("\\'yyyy-MM-dd HH:mm:ss\\'", CultureInfo.InvariantCulture),
        _ => start.ToString("\\'yyyy-MM-dd HH:mm:ss+00\\'", CultureInfo.InvariantCulture),
    };
}
