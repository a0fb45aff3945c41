using SinkConnector.Configuration;
using SinkConnector.Writing;

namespace SinkConnector.IntegrationTests;

/// <summary>
/// The partition sets a <c>partition:</c> table can have after sinks ran between two moments. Each process creates the
/// window of the moment it looks (the current interval and <c>ahead</c> more), so when the clock crosses an interval
/// boundary meanwhile (midnight UTC for days), the window may have moved by one, or the union of two windows is there.
/// </summary>
internal static class PartitionWindowsSeen
{
    /// <summary>Every possible set, as its names in date (and ordinal) order joined by ", ".</summary>
    public static IReadOnlyList<string> Between(TableName table, PartitionInterval interval, int ahead, DateTime before, DateTime after)
    {
        var starts = new List<DateTime>();
        for (var start = PartitionWindow.Floor(before, interval); start <= after; start = PartitionWindow.Add(start, interval, 1))
        {
            starts.Add(start);
        }

        // The earliest window any process saw starts at `first`, the latest at `last`: together they cover first..last+ahead.
        return [.. from first in starts
                   from last in starts
                   where last >= first
                   select string.Join(", ", Names(table, interval, first, PartitionWindow.Add(last, interval, ahead)))];
    }

    private static IEnumerable<string> Names(TableName table, PartitionInterval interval, DateTime first, DateTime last)
    {
        for (var start = first; start <= last; start = PartitionWindow.Add(start, interval, 1))
        {
            yield return PartitionWindow.Name(table, start, interval);
        }
    }
}
