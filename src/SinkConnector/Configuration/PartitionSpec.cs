namespace SinkConnector.Configuration;

/// <summary>The length of one range partition, aligned in UTC (weeks start on Monday).</summary>
public enum PartitionInterval
{
    Hour,
    Day,
    Week,
    Month,
}

/// <summary>
/// A mapping's <c>partition: { by, interval, ahead }</c>: the table is range-partitioned on the timestamp column
/// <paramref name="By"/>, one partition per <paramref name="Interval"/>, kept <paramref name="Ahead"/> intervals ahead
/// of the clock.
/// </summary>
public sealed record PartitionSpec(string By, PartitionInterval Interval, int Ahead);
